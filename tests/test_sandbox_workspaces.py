"""Workspaces outlive nobody: those of a killed process are removed at the next start, those of
a live process or kept on purpose stay; a stopped sandbox ends its runs at once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import ellora.sandbox.workspaces as owners
import pytest
from ellora.sandbox import Limits
from ellora.sandbox.local import LocalSandbox

pytestmark = pytest.mark.timeout(120)

# a process that makes a workspace (with a file in it), prints its path, then waits or exits
OWNER = """
import sys, time
from ellora.sandbox.local import LocalSandbox
workspace = LocalSandbox(root=sys.argv[1]).new_workspace(sys.argv[2])
(workspace / "data.bin").write_bytes(b"x" * 4096)
print(workspace, flush=True)
if sys.argv[3] == "wait":
    time.sleep(300)
"""


def start_owner(root: Path, prefix: str, then: str) -> tuple[subprocess.Popen, Path]:
    process = subprocess.Popen([sys.executable, "-c", OWNER, str(root), prefix, then],
                               stdout=subprocess.PIPE, text=True)
    return process, Path(process.stdout.readline().strip())


def test_workspaces_of_a_killed_process_are_removed_at_the_next_start(tmp_path):
    root = tmp_path / "root"
    killed_task, probe = start_owner(root, "probe-", "wait")
    killed_eval, evaluation = start_owner(root, "eval-", "wait")
    alive, in_use = start_owner(root, "eval-", "wait")
    finished, kept = start_owner(root, "task-", "exit")  # left on purpose at a normal exit
    try:
        assert finished.wait(30) == 0
        for process in (killed_task, killed_eval):
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        assert probe.is_dir() and evaluation.is_dir()
        fresh = LocalSandbox(root=root).new_workspace("next-")
        assert not probe.exists() and not evaluation.exists()
        assert (in_use / "data.bin").is_file(), "a live process's workspace was removed"
        assert (kept / "data.bin").is_file(), "a workspace kept at a normal exit was removed"
        assert fresh.is_dir()
    finally:
        alive.kill()
        alive.wait(30)
    LocalSandbox(root=root).new_workspace("later-")  # this process cleaned root already
    assert (in_use / "data.bin").is_file()
    again = subprocess.run([sys.executable, "-c", OWNER, str(root), "x-", "exit"],
                           check=False, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and not in_use.exists()  # its owner is dead now
    assert (kept / "data.bin").is_file()


# a process that makes and discards workspaces as fast as it can, until it is killed
SPINNER = """
import sys
from ellora.sandbox.local import LocalSandbox
sandbox = LocalSandbox(root=sys.argv[1])
print("ready", flush=True)
while True:
    sandbox.discard_workspace(sandbox.new_workspace("spin-"))
"""


def test_a_process_killed_at_any_point_of_making_a_workspace_leaves_nothing(tmp_path):
    """kill -9 can land between making the directory and recording its owner, or between
    removing it and forgetting the record: the next start still removes everything."""
    root = tmp_path / "root"
    for delay in (0.05, 0.11, 0.17, 0.23, 0.29, 0.31, 0.37, 0.43):
        spinner = subprocess.Popen([sys.executable, "-c", SPINNER, str(root)],
                                   stdout=subprocess.PIPE, text=True)
        assert spinner.stdout.readline().strip() == "ready"
        time.sleep(delay)
        spinner.send_signal(signal.SIGKILL)
        spinner.wait(30)
        spinner.stdout.close()
        LocalSandbox(root=root).discard_workspace(LocalSandbox(root=root).new_workspace("x-"))
        owners._cleaned.clear()  # each round is a new start
        left = {p.name for p in root.iterdir() if p.name != owners.OWNERS}
        assert left == set(), f"left behind after a kill at {delay}s: {left}"
        records = [p.name for p in (root / owners.OWNERS).iterdir()]
        # a claim cut before its rename names no workspace (and is taken after a grace)
        assert all(name.startswith(".claim-") for name in records), records


def test_a_workspace_kept_by_the_cli_survives_the_next_start(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ellora.agents.cli.main", "sandbox", "run",
                           "--keep", "--", "sh", "-c", "echo data > kept.txt"],
                          check=False, capture_output=True, text=True, timeout=60)
    kept = Path(json.loads(done.stdout)["workspace"])
    try:
        subprocess.run([sys.executable, "-c", OWNER, str(kept.parent), "x-", "exit"],
                       check=True, capture_output=True, timeout=60)
        assert (kept / "kept.txt").read_text() == "data\n"
    finally:
        LocalSandbox(root=kept.parent).discard_workspace(kept)


def test_stop_ends_a_running_command_at_once_and_refuses_new_ones(tmp_path):
    from ellora.sandbox.records import SandboxStopped

    sandbox = LocalSandbox(root=tmp_path / "root")
    workspace = sandbox.new_workspace("stop-")
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(sandbox.run(["sleep", "60"], workspace, Limits(wall_s=90)))
        except SandboxStopped as error:
            outcome.append(error)

    runner = threading.Thread(target=run)
    runner.start()
    time.sleep(1.0)
    started = time.monotonic()
    sandbox.stop()
    runner.join(10)
    assert time.monotonic() - started < 3
    assert isinstance(outcome[0], SandboxStopped), outcome
    with pytest.raises(SandboxStopped):
        sandbox.run(["true"], workspace)
    sandbox.discard_workspace(workspace)
