"""Hostile programs against the local sandbox: each must be contained, reported clearly in its
RunResult, and leave the host untouched, with no process of the run left alive afterwards.

Containment that only namespaces can give (network, files readable by the calling user) is
asserted where bubblewrap (or the per-run uid switch) is in force; under the plain rlimits
fallback the test checks that the result says honestly what is not isolated.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from ellora.sandbox import Limits
from ellora.sandbox.local import LocalSandbox
from ellora.sandbox.records import RunResult

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")]

SMALL = Limits(wall_s=3.0, cpu_s=3.0, memory_mb=256, procs=16, file_mb=16, open_files=64,
               output_bytes=64_000)

SOURCES = {
    "forkbomb": r"""
#include <unistd.h>
int main(void) { for (;;) { if (fork() < 0) usleep(1000); } }
""",
    "spin": r"""
int main(void) { volatile unsigned long n = 0; for (;;) n++; }
""",
    "hog": r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    size_t size = 50UL << 30;
    char *p = malloc(size);
    if (!p) { perror("malloc of 50 GB"); return 3; }
    memset(p, 1, size);
    puts("allocated 50 GB");
    return 0;
}
""",
    "bigfile": r"""
#include <stdio.h>
#include <string.h>
int main(void) {
    static char block[1 << 20];
    memset(block, 'x', sizeof block);
    FILE *f = fopen("big.bin", "wb");
    if (!f) { perror("fopen"); return 2; }
    for (int i = 0; i < 10240; i++)
        if (fwrite(block, 1, sizeof block, f) != sizeof block) { perror("fwrite"); return 3; }
    fclose(f);
    puts("wrote 10 GB");
    return 0;
}
""",
    "escape": r"""
#include <stdio.h>
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "w");
        if (f) { fputs("escaped\n", f); fclose(f); printf("wrote %s\n", argv[i]); }
        else { printf("denied %s\n", argv[i]); }
    }
    return 0;
}
""",
    "readfile": r"""
#include <stdio.h>
int main(int argc, char **argv) {
    char buf[4096];
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) { perror(argv[i]); continue; }
        size_t n = fread(buf, 1, sizeof buf, f);
        fwrite(buf, 1, n, stdout);
        fclose(f);
    }
    return 0;
}
""",
    "connect": r"""
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
        write(s, "leak", 4);
        puts("connected");
        return 0;
    }
    perror("connect");
    return 1;
}
""",
    "trace_parent": r"""
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>
int main(void) {
    pid_t parent = getppid();                /* the init that reports how the run ended */
    char path[64];
    if (ptrace(PTRACE_SEIZE, parent, 0, 0) == 0) { printf("traced %d\n", parent); return 0; }
    printf("ptrace %d: %s\n", parent, strerror(errno));
    snprintf(path, sizeof path, "/proc/%d/mem", parent);
    FILE *mem = fopen(path, "r");
    printf("%s: %s\n", path, mem ? "opened" : strerror(errno));
    return mem ? 0 : 7;
}
""",
    "daemon": r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int ready[2];
    char byte;
    pipe(ready);
    if (fork() != 0) {                      /* parent: exit once the daemon is set up */
        close(ready[1]);
        read(ready[0], &byte, 1);
        return 0;
    }
    setsid();
    if (fork() != 0) return 0;              /* double fork: orphaned grandchild */
    FILE *f = fopen(argv[1], "w");           /* opened now: the fd outlives any chmod */
    if (argc > 2 && strcmp(argv[2], "hide") == 0) { clearenv(); chdir("/"); }
    close(0); close(1); close(2);
    write(ready[1], "r", 1);
    close(ready[1]);
    sleep(1);
    fputs("daemon survived\n", f);
    fclose(f);
    return 0;
}
""",
}

MPI_DEADLOCK = r"""
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
    int rank, x;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    printf("rank %d receiving first\n", rank);
    fflush(stdout);
    MPI_Recv(&x, 1, MPI_INT, 1 - rank, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Send(&rank, 1, MPI_INT, 1 - rank, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return 0;
}
"""


def _compile(compiler: str, source: str, out: Path) -> Path:
    """Build a test program on the host (outside any sandbox) with the sandbox's own runner."""
    src = out.with_suffix(".c")
    src.write_text(source)
    result = LocalSandbox(isolation="rlimits", user=None).run(
        [compiler, "-O0", "-o", str(out), str(src)], out.parent, Limits(wall_s=60))
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile-bin")
    built = {name: _compile("gcc", src, folder / name) for name, src in SOURCES.items()}
    if shutil.which("mpicc") and shutil.which("mpirun"):
        built["mpi_deadlock"] = _compile("mpicc", MPI_DEADLOCK, folder / "mpi_deadlock")
    return built


@pytest.fixture(params=["auto", "rlimits"])
def sandbox(request) -> LocalSandbox:
    """The default sandbox (bubblewrap where it works) and the plain rlimits fallback."""
    return LocalSandbox(isolation=request.param)


def leftovers(result: RunResult) -> list[int]:
    """Live processes of a run, found independently of the sandbox's own sweep: by the mark in
    their environment, by a cwd inside the workspace, or by the run's own uid."""
    needle = f"ELLORA_SANDBOX_ID={result.sandbox_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            status = (entry / "status").read_text()
            environ = (entry / "environ").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("State", "").split()[:1] == ["Z"]:
            continue
        uid = int(fields["Uid"].split()[0])
        if (needle in environ or cwd.startswith(result.workspace)
                or (result.uid is not None and uid == result.uid)):
            found.append(int(entry.name))
    return found


def run_hostile(sandbox: LocalSandbox, program: Path, args: list[str], limits: Limits,
                keep: bool = False, launcher: tuple[str, ...] = ()) -> tuple[RunResult, Path]:
    """Copy ``program`` into a fresh workspace, run it (behind ``launcher``, e.g. mpirun),
    check nothing of it is left running, and discard the workspace unless ``keep``."""
    workspace = sandbox.new_workspace("hostile-")
    shutil.copy2(program, workspace / program.name)
    result = sandbox.run([*launcher, f"./{program.name}", *args], workspace, limits)
    assert leftovers(result) == [], f"processes of the run still alive: {result}"
    if not keep:
        sandbox.discard_workspace(workspace)
        assert not workspace.exists()
    return result, workspace


def strongly_isolated(result: RunResult) -> bool:
    """Files of the calling user are out of reach: namespaces, or a uid of the run's own."""
    return result.isolation == "bubblewrap" or result.uid is not None


def _count_running(program: str) -> int:
    """How many marked processes run ``program`` right now."""
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            count += (b"ELLORA_SANDBOX_ID=" in (entry / "environ").read_bytes()
                      and os.readlink(entry / "exe").endswith(program))
        except OSError:
            pass
    return count


def test_fork_bomb_is_capped_by_the_process_limit(sandbox, programs):
    peak, stop = [0], threading.Event()

    def watch() -> None:  # sample the number of bombs while the run goes on
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _count_running("forkbomb"))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result, _ = run_hostile(sandbox, programs["forkbomb"], [],
                                SMALL.replace(wall_s=2.0, procs=12))
    finally:
        stop.set()
        watcher.join()
    assert result.limit_hit in ("wall", "procs", "cpu"), result
    assert not result.ok and result.wall_s < 6
    assert 1 <= peak[0] <= 12, f"saw {peak[0]} fork-bomb processes at once"


def test_infinite_loop_is_killed_at_the_wall_limit(sandbox, programs):
    result, _ = run_hostile(sandbox, programs["spin"], [], SMALL.replace(wall_s=1.0, cpu_s=30))
    assert result.limit_hit == "wall"
    assert result.exit_code == -9
    assert 0.9 < result.wall_s < 3


def test_cpu_limit_stops_a_busy_loop(sandbox, programs):
    result, _ = run_hostile(sandbox, programs["spin"], [], SMALL.replace(wall_s=10, cpu_s=1))
    assert result.limit_hit == "cpu", result
    assert result.wall_s < 5


def test_fifty_gigabyte_allocation_fails_within_the_memory_limit(sandbox, programs):
    result, _ = run_hostile(sandbox, programs["hog"], [], SMALL.replace(memory_mb=128))
    assert result.exit_code == 3, result
    assert result.limit_hit == "memory"
    assert "allocated 50 GB" not in result.stdout
    assert result.peak_rss_mb < 128


def test_ten_gigabyte_file_stops_at_the_file_size_limit(sandbox, programs):
    result, workspace = run_hostile(sandbox, programs["bigfile"], [],
                                    SMALL.replace(file_mb=8), keep=True)
    try:
        assert result.limit_hit == "file_size", result
        assert result.exit_code == -25  # SIGXFSZ
        assert (workspace / "big.bin").stat().st_size <= 8 * 1024 * 1024
        assert "wrote 10 GB" not in result.stdout
    finally:
        sandbox.discard_workspace(workspace)
    assert not workspace.exists()


def test_writes_outside_the_workspace_do_not_reach_the_host(sandbox, programs, tmp_path):
    tag = uuid.uuid4().hex
    home_target = Path(os.path.expanduser("~")) / f"ellora-escape-{tag}"
    tmp_target = tmp_path / f"escape-{tag}"
    parent_target = sandbox.root / f"escape-{tag}"
    targets = [home_target, tmp_target, parent_target]
    try:
        result, _ = run_hostile(sandbox, programs["escape"], [str(t) for t in targets], SMALL)
        assert result.exit_code == 0, result
        if strongly_isolated(result):
            assert [t for t in targets if t.exists()] == []
        else:
            assert any("filesystem is not isolated" in note for note in result.notes)
    finally:
        for target in targets:
            target.unlink(missing_ok=True)


def test_planted_ssh_key_outside_the_workspace_cannot_be_read(sandbox, programs,
                                                              tmp_path_factory):
    fake_home = tmp_path_factory.mktemp("fake-home")
    secret = f"-----BEGIN OPENSSH PRIVATE KEY----- {uuid.uuid4().hex}"
    key = fake_home / ".ssh" / "id_rsa"
    key.parent.mkdir(mode=0o700)
    key.write_text(secret + "\n")
    key.chmod(0o600)
    assert not str(key).startswith("/usr/")
    result, _ = run_hostile(sandbox, programs["readfile"], [str(key), "../" * 12 + str(key)[1:]],
                            SMALL)
    if strongly_isolated(result):
        assert secret not in result.stdout + result.stderr
        assert key.read_text().strip() == secret  # still there, untouched
    else:
        assert any("filesystem is not isolated" in note for note in result.notes)


def test_tcp_connection_to_a_host_port_is_blocked(sandbox, programs):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    try:
        result, _ = run_hostile(sandbox, programs["connect"], [str(port)], SMALL)
        try:
            conn, _ = server.accept()
            conn.close()
            accepted = True
        except TimeoutError:
            accepted = False
    finally:
        server.close()
    if result.isolation == "bubblewrap":
        assert "connected" not in result.stdout
        assert result.exit_code == 1
        assert not accepted
    else:
        assert any("network is not isolated" in note for note in result.notes)


@pytest.mark.parametrize("how", ["plain", "hide"])
def test_double_forked_daemon_is_killed(sandbox, programs, how):
    """setsid + double fork, open a flag file, sleep 1 s, then write to it; "hide" also scrubs
    its environment and leaves the workspace, so only namespaces or the run's uid find it."""
    workspace = sandbox.new_workspace("hostile-")
    shutil.copy2(programs["daemon"], workspace / "daemon")
    flag = workspace / "daemon-was-here"
    try:
        result = sandbox.run(["./daemon", str(flag), how], workspace, SMALL)
        assert result.ok, result
        if how == "hide" and not strongly_isolated(result):
            pytest.skip("a daemon that scrubs its environment escapes the plain rlimits sweep")
        assert leftovers(result) == []
        time.sleep(1.5)
        assert flag.read_text() == "", "the daemon outlived the run"
        assert leftovers(result) == []
    finally:
        sandbox.discard_workspace(workspace)
    assert not workspace.exists()


def test_deadlocked_mpi_ranks_are_all_killed(sandbox, programs):
    if "mpi_deadlock" not in programs:
        pytest.skip("needs mpicc and mpirun")
    mpirun = ("mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "2")
    result, _ = run_hostile(sandbox, programs["mpi_deadlock"], [],
                            SMALL.replace(wall_s=4.0, cpu_s=8.0, memory_mb=2048, procs=64),
                            launcher=mpirun)
    assert result.limit_hit == "wall", result
    assert result.stdout.count("receiving first") == 2, result


def test_nested_user_namespaces_are_refused(sandbox):
    """``unshare -U -r`` would hand the program capabilities over fresh namespaces."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1)")
    workspace = sandbox.new_workspace("hostile-")
    try:
        result = sandbox.run(["unshare", "--user", "--map-root-user", "id", "-u"], workspace,
                             SMALL)
        assert leftovers(result) == []
    finally:
        sandbox.discard_workspace(workspace)
    if result.isolation == "bubblewrap":
        assert result.exit_code != 0 and result.stdout.strip() != "0", result
    else:
        assert any("not isolated" in note for note in result.notes)


def test_the_command_cannot_ptrace_the_init_that_reports_its_end(sandbox, programs):
    """Under bubblewrap the init is pid 1 of the sandbox; in the fallback it is the command's
    parent all the same. Tracing it could forge the exit status, CPU time and peak RSS."""
    result, _ = run_hostile(sandbox, programs["trace_parent"], [], SMALL)
    assert "traced" not in result.stdout, result
    assert result.exit_code == 7, result
    assert "Operation not permitted" in result.stdout
    if result.isolation == "bubblewrap":
        assert "ptrace 1:" in result.stdout


def test_the_seccomp_filter_refuses_ptrace_of_pid_1_only():
    """The filter itself, run on the syscalls that matter (it guards ``sh`` as pid 1 too)."""
    from ellora.sandbox import seccomp

    eperm = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM
    x86_64, ptrace, getpid = 0xC000003E, 101, 39
    assert run_filter(seccomp.program("x86_64"), x86_64, ptrace, [16, 1]) == eperm
    assert run_filter(seccomp.program("x86_64"), x86_64, ptrace, [16, 1 + (1 << 32)]) == eperm
    assert run_filter(seccomp.program("x86_64"), x86_64, ptrace, [16, 42]) == 0x7FFF0000
    assert run_filter(seccomp.program("x86_64"), x86_64, getpid, [0, 1]) == 0x7FFF0000
    assert run_filter(seccomp.program("aarch64"), 0xC00000B7, 117, [16, 1]) == eperm


def run_filter(program, arch: int, nr: int, args: list[int]) -> int:
    """Run a classic-BPF seccomp program (only the opcodes it uses) on one syscall."""
    words = {0: nr, 4: arch}
    for index, value in enumerate(args):
        words[16 + 8 * index], words[20 + 8 * index] = value & 0xFFFFFFFF, value >> 32
    accumulator, pc = 0, 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        if code == 0x20:
            accumulator = words.get(k, 0)
        elif code == 0x06:
            return k
        else:
            taken = {0x15: accumulator == k, 0x35: accumulator >= k,
                     0x45: bool(accumulator & k)}[code]
            pc += jt if taken else jf


def shared_memory_kb() -> int:
    """The host's shared memory (tmpfs pages included), from /proc/meminfo."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Shmem:"):
            return int(line.split()[1])
    raise AssertionError("no Shmem line in /proc/meminfo")


@pytest.mark.parametrize("target", ["/tmp", "/dev/shm"])
def test_filling_private_tmpfs_hits_the_memory_limit_and_frees_host_memory(target):
    """``ellora sandbox run --mem 64`` and 1.5 GB written to its /tmp or /dev/shm: tmpfs lives
    in host memory, so it is bounded by the memory limit and gone after the run."""
    if LocalSandbox().isolation != "bubblewrap":
        pytest.skip("private tmpfs needs bubblewrap")
    before, peak, stop = shared_memory_kb(), [0], threading.Event()

    def watch() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], shared_memory_kb())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ellora.agents.cli.main", "sandbox", "run", "--mem", "64",
             "--", "sh", "-c", f"dd if=/dev/zero of={target}/fill bs=1M count=1500; sleep 0.5"],
            check=False, capture_output=True, text=True, timeout=120)
    finally:
        stop.set()
        watcher.join()
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["limit_hit"] == "memory", report
    assert "No space left on device" in report["stderr"]
    assert any(target in note and "64 MB" in note for note in report["notes"]), report
    assert peak[0] - before < 400 * 1024, f"host shared memory rose by {peak[0] - before} kB"
    assert shared_memory_kb() - before < 100 * 1024  # back to its baseline (others share it)


def test_a_disk_hog_ends_at_the_workspace_quota(sandbox):
    """Many files, each under the per-file limit, together over the workspace quota."""
    workspace = sandbox.new_workspace("hostile-")
    script = "for i in $(seq 1 40); do head -c 31457280 /dev/zero > f$i || exit 3; done"
    try:
        result = sandbox.run(["sh", "-c", script], workspace,
                             SMALL.replace(wall_s=60, cpu_s=60, file_mb=64, disk_mb=128))
        assert leftovers(result) == []
        used = sum(p.stat().st_blocks * 512 for p in workspace.iterdir())
    finally:
        sandbox.discard_workspace(workspace)
    assert result.limit_hit == "disk", result
    assert not result.ok and any("128 MB quota" in note for note in result.notes)
    assert 128 << 20 < used < 400 << 20, f"{used >> 20} MB written"


def test_the_sandbox_cli_takes_a_disk_quota_and_defaults_to_a_few_gigabytes(capsys):
    from ellora.agents.cli.main import main

    assert 2048 <= Limits().disk_mb <= 8192
    code = main(["sandbox", "run", "--disk", "64", "--", "sh", "-c",
                 "for i in 1 2 3 4 5 6; do head -c 20971520 /dev/zero > f$i; done"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["limit_hit"] == "disk", report
