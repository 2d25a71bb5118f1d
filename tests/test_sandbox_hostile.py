"""Hostile programs against the local sandbox: each must be contained, reported clearly in its
RunResult, and leave the host untouched, with no process of the run left alive afterwards.

Containment that only namespaces can give (network, files readable by the calling user) is
asserted where bubblewrap (or the per-run uid switch) is in force; under the plain rlimits
fallback the test checks that the result says honestly what is not isolated.
"""

from __future__ import annotations

import os
import shutil
import socket
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
