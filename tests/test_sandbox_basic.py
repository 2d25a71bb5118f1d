"""Everyday behaviour of the local sandbox and of ``ellora sandbox run``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ellora.agents.cli.main import main
from ellora.sandbox import Limits, create_sandbox
from ellora.sandbox.local import LocalSandbox

pytestmark = pytest.mark.timeout(120)

QUICK = Limits(wall_s=20.0, cpu_s=20.0, memory_mb=2048, procs=64, file_mb=64, output_bytes=4096)

OPENMP_SOURCE = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int threads = 0;
    #pragma omp parallel
    {
        #pragma omp single
        threads = omp_get_num_threads();
    }
    printf("threads=%d\n", threads);
    return 0;
}
"""

MPI_SOURCE = r"""
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    printf("rank %d of %d\n", rank, size);
    MPI_Finalize();
    return 0;
}
"""


@pytest.fixture(params=["auto", "rlimits"])
def sandbox(request) -> LocalSandbox:
    return LocalSandbox(isolation=request.param)


@pytest.fixture
def workspace(sandbox):
    path = sandbox.new_workspace("basic-")
    yield path
    sandbox.discard_workspace(path)


def test_create_sandbox_builds_the_local_backend():
    assert isinstance(create_sandbox("local"), LocalSandbox)
    with pytest.raises(ValueError):
        create_sandbox("nope")


def test_bubblewrap_is_used_where_it_works():
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap not installed")
    assert LocalSandbox().isolation == "bubblewrap"


def test_exit_codes_and_ok(sandbox, workspace):
    assert sandbox.run(["true"], workspace, QUICK).ok
    failed = sandbox.run(["sh", "-c", "exit 3"], workspace, QUICK)
    assert (failed.exit_code, failed.ok, failed.limit_hit) == (3, False, None)
    killed = sandbox.run(["sh", "-c", "kill -TERM $$"], workspace, QUICK)
    assert killed.exit_code == -15
    high = sandbox.run(["sh", "-c", "exit 139"], workspace, QUICK)
    assert high.exit_code == 139  # an exit status, not a signal
    missing = sandbox.run(["no-such-command-ellora"], workspace, QUICK)
    assert missing.exit_code == 127 and not missing.ok


def test_cpu_and_peak_memory_are_those_of_the_command(sandbox, workspace):
    if not Path("/usr/bin/python3").exists():
        pytest.skip("needs /usr/bin/python3")
    ballast = bytearray(300 * 1024 * 1024)  # the caller's own memory must not count
    ballast[::4096] = b"\1" * len(range(0, len(ballast), 4096))  # make it resident
    code = "x = bytearray(200 * 1024 * 1024); s = sum(range(3_000_000))"
    result = sandbox.run(["/usr/bin/python3", "-c", code], workspace, QUICK)
    assert result.ok, result
    assert 200 < result.peak_rss_mb < 300, result
    assert 0.05 < result.cpu_s < 10
    del ballast


def test_stdout_and_stderr_are_captured_separately(sandbox, workspace):
    result = sandbox.run(["sh", "-c", "echo out; echo err >&2"], workspace, QUICK)
    assert (result.stdout, result.stderr) == ("out\n", "err\n")
    assert not result.truncated
    assert result.isolation == sandbox.isolation
    assert result.workspace == str(workspace.resolve())


def test_long_output_is_truncated(sandbox, workspace):
    result = sandbox.run(["sh", "-c", "yes | head -c 100000; yes e | head -c 100000 >&2"],
                         workspace, QUICK.replace(output_bytes=1000))
    assert result.ok
    assert len(result.stdout) == 1000 and len(result.stderr) == 1000
    assert result.truncated
    assert any("truncated" in note for note in result.notes)


def test_environment_is_small_and_passed(sandbox, workspace, monkeypatch):
    monkeypatch.setenv("ELLORA_TEST_HOST_SECRET", "do-not-leak")
    result = sandbox.run(["sh", "-c", "echo $FOO; echo $HOME; env"], workspace, QUICK,
                         env={"FOO": "bar baz"})
    lines = result.stdout.splitlines()
    assert lines[:2] == ["bar baz", str(workspace.resolve())]
    assert "do-not-leak" not in result.stdout
    assert f"ELLORA_SANDBOX_ID={result.sandbox_id}" in result.stdout


def test_files_flow_between_caller_and_sandbox(sandbox, workspace):
    (workspace / "input.txt").write_text("hello\n")
    result = sandbox.run(["sh", "-c", "cat input.txt > output.txt; echo more >> input.txt"],
                         workspace, QUICK)
    assert result.ok, result
    assert (workspace / "output.txt").read_text() == "hello\n"
    assert (workspace / "input.txt").read_text() == "hello\nmore\n"
    owner = workspace.stat().st_uid
    assert all(p.stat().st_uid == owner for p in workspace.iterdir())  # handed back


def test_openmp_build_and_run_with_two_threads(sandbox, workspace):
    if shutil.which("g++") is None:
        pytest.skip("needs g++")
    (workspace / "omp.cpp").write_text(OPENMP_SOURCE)
    build = sandbox.run(["g++", "-O2", "-fopenmp", "omp.cpp", "-o", "omp"], workspace, QUICK)
    assert build.ok, build.stderr
    run = sandbox.run(["./omp"], workspace, QUICK, env={"OMP_NUM_THREADS": "2"})
    assert run.ok, run.stderr
    assert run.stdout.strip() == "threads=2"


def test_mpi_build_and_run_with_two_ranks(sandbox, workspace):
    if shutil.which("mpicxx") is None or shutil.which("mpirun") is None:
        pytest.skip("needs mpicxx and mpirun")
    (workspace / "hello.cpp").write_text(MPI_SOURCE)
    build = sandbox.run(["mpicxx", "-O2", "hello.cpp", "-o", "hello"], workspace, QUICK)
    assert build.ok, build.stderr
    run = sandbox.run(["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "2", "./hello"],
                      workspace, QUICK, env={"OMP_NUM_THREADS": "1"})
    assert run.ok, run.stderr
    assert sorted(run.stdout.splitlines()) == ["rank 0 of 2", "rank 1 of 2"]


def test_fallback_says_what_it_does_not_isolate(workspace):
    result = LocalSandbox(isolation="rlimits").run(["true"], workspace, QUICK)
    assert result.isolation == "rlimits"
    assert any("network is not isolated" in note for note in result.notes)


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["sandbox", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_prints_the_result_as_json_and_discards_the_workspace(capsys):
    code, out, _ = _cli(capsys, "run", "--time", "20", "--", "sh", "-c", "echo hi; pwd")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["stdout"].startswith("hi\n")
    assert report["workspace"] is None and report["kept"] is False
    used = Path(report["stdout"].splitlines()[1])
    assert not used.exists()


def test_cli_keep_prints_the_workspace_and_failure_exits_one(capsys):
    code, out, _ = _cli(capsys, "run", "--keep", "--mem", "512", "--procs", "32", "--",
                        "sh", "-c", "echo data > kept.txt; exit 4")
    report = json.loads(out)
    kept = Path(report["workspace"])
    try:
        assert code == 1 and report["exit_code"] == 4 and report["kept"] is True
        assert (kept / "kept.txt").read_text() == "data\n"
    finally:
        shutil.rmtree(kept, ignore_errors=True)


def test_cli_limit_hit_exits_one(capsys):
    code, out, _ = _cli(capsys, "run", "--time", "0.5", "--", "sleep", "5")
    assert code == 1 and json.loads(out)["limit_hit"] == "wall"


@pytest.mark.parametrize("argv", [
    ("run",), ("run", "--"), ("run", "--time", "-1", "--", "true"),
    ("run", "--bogus", "--", "true"), ("run", "--time", "soon", "--", "true"),
    ("frobnicate",), (),
])
def test_cli_bad_input_is_one_line_and_exit_two(capsys, argv):
    code, out, err = _cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "error" in err
    assert "Traceback" not in err


def test_fallback_warns_once_in_one_line(monkeypatch, capsys, tmp_path):
    from ellora.sandbox import bwrap

    monkeypatch.setattr(bwrap, "probe", lambda uid: "user namespaces are disabled")
    monkeypatch.setattr(bwrap, "_warned", False)
    sandbox = LocalSandbox()
    first = sandbox.run(["true"], tmp_path, QUICK)
    second = sandbox.run(["true"], tmp_path, QUICK)
    err = capsys.readouterr().err
    assert first.isolation == second.isolation == "rlimits" and first.ok and second.ok
    assert len(err.strip().splitlines()) == 1
    assert "user namespaces are disabled" in err and "falling back" in err


def test_required_bubblewrap_fails_loudly_when_unavailable(monkeypatch, tmp_path):
    from ellora.sandbox import bwrap

    monkeypatch.setattr(bwrap, "probe", lambda uid: "bwrap is not installed")
    with pytest.raises(RuntimeError, match="bwrap is not installed"):
        LocalSandbox(isolation="bubblewrap").run(["true"], tmp_path, QUICK)


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError):
        LocalSandbox(isolation="docker")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        LocalSandbox().run([], tmp_path, QUICK)
    with pytest.raises(FileNotFoundError):
        LocalSandbox().run(["true"], tmp_path / "missing", QUICK)


def test_seccomp_filter_is_well_formed():
    from ellora.sandbox import seccomp

    for machine in ("x86_64", "aarch64"):
        insns = seccomp.program(machine)
        assert insns[-1] == (0x06, 0, 0, 0x7FFF0000)  # unknown ABI: allow
        for index, (code, jt, jf, _) in enumerate(insns):  # jumps land inside the program
            if code & 0x07 == 0x05:
                assert index + 1 + max(jt, jf) < len(insns)
            else:
                assert jt == jf == 0
        assert len(seccomp.filter_bytes(machine)) == 8 * len(insns)
    assert seccomp.filter_bytes("riscv64") is None


def test_extra_read_only_paths_are_visible_but_not_writable(tmp_path_factory):
    sandbox = LocalSandbox(ro_binds=[])
    if sandbox.isolation != "bubblewrap":
        pytest.skip("read-only binds exist only under bubblewrap")
    prefix = tmp_path_factory.mktemp("prefix")
    (prefix / "include").mkdir()
    (prefix / "include" / "lib.h").write_text("#define ANSWER 42\n")
    for path in (prefix, prefix / "include"):
        path.chmod(0o755)
    (prefix / "include" / "lib.h").chmod(0o644)
    sandbox = LocalSandbox(ro_binds=[str(prefix)])
    workspace = sandbox.new_workspace("basic-")
    try:
        result = sandbox.run(["sh", "-c", f"cat {prefix}/include/lib.h; touch {prefix}/new"],
                             workspace, QUICK)
    finally:
        sandbox.discard_workspace(workspace)
    assert result.stdout == "#define ANSWER 42\n"
    assert result.exit_code != 0 and not (prefix / "new").exists()
