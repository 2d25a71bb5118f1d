"""ellora-agent as a user runs it: bad input, --json, --apply, kill and --resume, lazy --help."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO

AGENT = [sys.executable, "-m", "ellora.agents.cli.agent_command"]
FAST = [
    "--set",
    "agent.timing_size=200000",
    "--set",
    "agent.min_timing_s=0",
    "--set",
    "agent.timing_repeats=2",
    "--set",
    "agent.test_sizes=[0,1,7,1001]",
    "--set",
    "agent.min_speedup=0",
]


def agent(*args, cwd=None, env=None):
    return subprocess.run(
        [*AGENT, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def saxpy_copy(tmp_path):
    for name in ("saxpy.cpp", "saxpy.harness.cpp"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path / "saxpy.cpp"


@pytest.mark.parametrize(
    "args, message",
    [
        (["parallelize", "--file", "missing.cpp"], "file missing.cpp not found"),
        (["parallelize", "--file", "{saxpy}", "--lines", "40-50"], "outside"),
        (["parallelize", "--file", "{saxpy}", "--lines", "x-y"], "bad --lines 'x-y'"),
        (["  ", "--file", "{saxpy}"], "the task is empty"),
        (
            ["parallelize", "--file", "{saxpy}", "--model", "gpt-banana"],
            "bad setting model.provider",
        ),
        (
            ["parallelize", "--file", "{saxpy}", "--set", "agent.threads=oops"],
            "bad setting agent.threads",
        ),
        (["parallelize"], "no --file given"),
        (["--resume", "doesnotexist"], "no task 'doesnotexist' to resume"),
        (["port this loop to SYCL", "--file", "{saxpy}", "--lines", "5-7"],
         "SYCL ports are not supported yet: Ellora writes OpenMP, Kokkos or MPI"),
        (["rewrite it in HIP", "--file", "{saxpy}"], "HIP ports are not supported yet"),
        (["use OpenACC for this loop", "--file", "{saxpy}"], "OpenACC ports are not supported"),
        (["port this loop to CUDA", "--file", "{saxpy}"], "Kokkos or MPI"),
        (["parallelize", "--file", "{saxpy}", "--lines", "1-3"], "lines 1-3 of"),
    ],
)
def test_bad_input_is_one_line_with_no_traceback(args, message, saxpy_copy):
    result = agent(*[a.replace("{saxpy}", str(saxpy_copy)) for a in args])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_endpoint_that_does_not_answer_is_one_line(saxpy_copy):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = agent(
        "parallelize with OpenMP",
        "--file",
        str(saxpy_copy),
        "--lines",
        "5-7",
        "--model",
        "openai-compatible",
        "--quiet",
        "--set",
        f"model.base_url=http://127.0.0.1:{port}/v1",
        "--set",
        "model.max_retries=1",
        "--set",
        "agent.prefer_transformations=false",
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"127.0.0.1:{port}" in result.stderr and "--resume" in result.stderr


def test_json_report_and_file_untouched_without_apply(saxpy_copy):
    before = saxpy_copy.read_text()
    result = agent(
        "parallelize this loop with OpenMP",
        "--file",
        str(saxpy_copy),
        "--lines",
        "5-7",
        "--json",
        "--quiet",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "verified"
    assert {"task", "plan", "diff", "build", "test", "speedups", "model", "sources"} <= set(report)
    assert Path(report["patch"]).read_text() == report["diff"]
    assert saxpy_copy.read_text() == before
    assert not list(saxpy_copy.parent.glob("*.orig*"))


def test_apply_writes_atomically_and_keeps_the_original(saxpy_copy):
    before = saxpy_copy.read_text()
    result = agent(
        "parallelize this loop with OpenMP",
        "--file",
        str(saxpy_copy),
        "--lines",
        "5-7",
        "--apply",
        "--quiet",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    assert "#pragma omp parallel for" in saxpy_copy.read_text()
    assert (saxpy_copy.parent / "saxpy.cpp.orig").read_text() == before
    assert "original kept as" in result.stdout


def test_apply_refuses_an_unverified_change(tmp_path):
    source = tmp_path / "scan.cpp"
    text = "void scan(int n, double* a) {\n  for (int i = 1; i < n; ++i) a[i] += a[i - 1];\n}\n"
    source.write_text(text)
    result = agent("parallelize with OpenMP", "--file", str(source), "--apply", "--quiet")
    assert result.returncode == 1
    assert "not applied" in result.stderr and "refused" in result.stderr
    assert source.read_text() == text and not list(tmp_path.glob("*.orig*"))
    as_json = agent("parallelize with OpenMP", "--file", str(source), "--apply", "--json",
                    "--quiet")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)  # the report is printed even when nothing is applied
    assert report["applied"] is False and "refused" in report["not_applied_reason"]
    assert len(as_json.stderr.strip().splitlines()) == 1
    assert "not applied" in as_json.stderr and "no patch was produced" in as_json.stderr


def test_apply_through_a_symlink_writes_the_file_it_names(saxpy_copy, tmp_path):
    """The link stays a link; the real file gets the change, its backup beside it. The task
    names no target: the report says OpenMP was chosen by default."""
    before = saxpy_copy.read_text()
    link_folder = tmp_path / "links"
    link_folder.mkdir()
    link = link_folder / "saxpy.cpp"
    link.symlink_to(saxpy_copy)
    shutil.copy(EXAMPLES / "saxpy.harness.cpp", link_folder / "saxpy.harness.cpp")
    result = agent("parallelize this loop", "--file", str(link), "--lines", "5-7", "--apply",
                   "--quiet", *FAST)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and link.resolve() == saxpy_copy.resolve()
    assert "#pragma omp parallel for" in saxpy_copy.read_text()
    assert (saxpy_copy.parent / "saxpy.cpp.orig").read_text() == before
    assert not list(link_folder.glob("*.orig*"))
    assert f"{link} is a symbolic link: the change was written to {saxpy_copy}" in result.stdout
    assert "Target: openmp: the task names no programming model" in result.stdout


def test_apply_refuses_a_read_only_file_unless_forced(saxpy_copy):
    before = saxpy_copy.read_text()
    saxpy_copy.chmod(0o444)
    refused = agent("parallelize this loop with OpenMP", "--file", str(saxpy_copy), "--lines",
                    "5-7", "--apply", "--json", *FAST)
    assert refused.returncode == 2
    report = json.loads(refused.stdout)
    assert report["status"] == "verified" and report["applied"] is False
    assert "read-only" in report["not_applied_reason"] and "--force" in report["not_applied_reason"]
    error = refused.stderr.strip().splitlines()[-1]
    assert "read-only" in error and f"the patch is saved at {report['patch']}" in error
    assert saxpy_copy.read_text() == before and not list(saxpy_copy.parent.glob("*.orig*"))
    forced = agent("--resume", report["task_id"], "--apply", "--force", "--json", "--quiet")
    assert forced.returncode == 0, forced.stderr
    applied = json.loads(forced.stdout)
    assert applied["applied"] is True and applied["applied_to"] == str(saxpy_copy)
    assert "#pragma omp parallel for" in saxpy_copy.read_text()
    assert oct(saxpy_copy.stat().st_mode & 0o777) == "0o444"
    assert (saxpy_copy.parent / "saxpy.cpp.orig").read_text() == before


def test_lines_without_code_fail_at_once_even_in_a_large_file(tmp_path):
    """Comment lines of a 50,000-line file: one line, before any model or index is loaded."""
    source = tmp_path / "big.cpp"
    body = [f"// note {i}: nothing to parallelize here" for i in range(50_000)]
    body[10:13] = ["void f(int n, double* y) {", "  for (int i = 0; i < n; ++i) y[i] = i;", "}"]
    source.write_text("\n".join(body) + "\n")
    started = time.monotonic()
    result = agent("parallelize with OpenMP", "--file", str(source), "--lines", "20000-20100")
    assert time.monotonic() - started < 20
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [(
        f"ellora-agent: error: lines 20000-20100 of {source} hold no code to change (only "
        "comments, blank lines, directives or braces): select the statements or loop to work "
        "on; choose them with --lines A-B")]
    fortran = tmp_path / "p.f90"
    fortran.write_text("program p\n  ! a comment, 'quoted'\n\n  ! another\n  x = 1 ! set\nend\n")
    result = agent("parallelize with OpenMP", "--file", str(fortran), "--lines", "2-4")
    assert result.returncode == 2 and "lines 2-4 of" in result.stderr


def test_killed_task_resumes_where_it_stopped(saxpy_copy, tmp_path):
    slow = ["--set", "agent.timing_size=20000000", "--set", "agent.timing_repeats=20"]
    process = subprocess.Popen(
        [*AGENT, "parallelize with OpenMP", "--file", str(saxpy_copy), "--lines", "5-7", *slow],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    task_id = None
    for line in process.stderr:
        if line.startswith("[ellora] task "):
            task_id = line.split()[2].rstrip(":")
        if line.startswith("[tester]"):
            break
    time.sleep(1.0)  # the profiler is running now
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert task_id
    result = agent("--resume", task_id, *FAST)
    assert result.returncode == 0, result.stderr
    assert "[planner]" not in result.stderr and "[tester]" not in result.stderr
    assert "[profiler]" in result.stderr
    assert "Status: VERIFIED" in result.stdout


def test_help_is_lazy():
    code = (
        "import sys; from ellora.agents.cli import agent_command, main\n"
        "for entry in (agent_command.main, main.main):\n"
        "    try:\n        entry(['--help'])\n    except SystemExit:\n        pass\n"
        "heavy = [m for m in ('langgraph', 'llama_cpp', 'tree_sitter', 'langchain_core', "
        "'httpx') if m in sys.modules]\nprint('HEAVY', heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_ellora_umbrella_command_lists_and_rejects():
    ok = subprocess.run(
        [sys.executable, "-m", "ellora.agents.cli.main", "--help"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "agent" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "ellora.agents.cli.main", "frobnicate"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "unknown command 'frobnicate'" in bad.stderr
