"""Finding and killing what a run left behind, by scanning ``/proc``.

Every process of a run carries ``ELLORA_SANDBOX_ID=<uuid>`` in its environment (inherited
through fork, exec, setsid and double forks). After the command ends, anything still alive
with that mark is killed; under bubblewrap the pid namespace already took care of it and the
scan only confirms it.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from pathlib import Path

MARKER = "ELLORA_SANDBOX_ID"
_PROC = Path("/proc")


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group, ignoring one that is already gone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def wait_or_kill(pid: int, seconds: float, watch=None) -> str | None:
    """Block until child ``pid`` exits (left unreaped), ``seconds`` pass, or ``watch`` (a
    :class:`~ellora.sandbox.quota.QuotaWatch`) reports its limit; in the last two cases
    SIGKILL its process group. Returns the limit that ended it ("wall", "disk") or None.
    Uses a pidfd, else a timer thread."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return _wait_with_timer(pid, seconds, watch)
    deadline = time.monotonic() + max(0.0, seconds)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while True:
            left = deadline - time.monotonic()
            step = left if watch is None else min(left, watch.due_in())
            if poller.poll(max(0.0, step) * 1000):
                return None
            reason = "wall" if time.monotonic() >= deadline else watch and watch.check()
            if reason:
                kill_group(pid)
                return reason
    finally:
        os.close(fd)


def _wait_with_timer(pid: int, seconds: float, watch=None) -> str | None:
    fired: list[str] = []
    done = threading.Event()

    def fire(reason: str) -> None:
        fired.append(reason)
        kill_group(pid)

    def patrol() -> None:  # the quota check, until the wall limit or the end
        deadline = time.monotonic() + seconds
        while not done.wait(min(max(0.0, deadline - time.monotonic()),
                                watch.due_in() if watch else seconds)):
            if time.monotonic() >= deadline:
                return fire("wall")
            if watch is not None and watch.check():
                return fire("disk")
        return None

    thread = threading.Thread(target=patrol, daemon=True)
    thread.start()
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    finally:
        done.set()
        thread.join()
    return fired[0] if fired else None


def _status(pid_dir: Path) -> tuple[str, int | None]:
    """``(state letter, real uid)`` of a process; ``('', None)`` when it vanished."""
    try:
        text = (pid_dir / "status").read_text()
    except OSError:
        return "", None
    state, uid = "", None
    for line in text.splitlines():
        if line.startswith("State:"):
            state = line.split()[1]
        elif line.startswith("Uid:"):
            uid = int(line.split()[1])
            break
    return state, uid


def _has_marker(pid_dir: Path, needle: bytes) -> bool:
    try:
        environ = (pid_dir / "environ").read_bytes()
    except OSError:
        return False
    return needle in environ.split(b"\0")


def marked_processes(sandbox_id: str, owned_uid: int | None = None) -> list[int]:
    """Live (non-zombie) processes of a run: those carrying its mark in their environment, and
    with ``owned_uid`` (a uid allocated to this run alone) every process of that uid, since a
    process can scrub its own environment but not change its uid.
    """
    needle = f"{MARKER}={sandbox_id}".encode()
    found = []
    for pid_dir in _PROC.iterdir():
        if not pid_dir.name.isdigit() or int(pid_dir.name) == os.getpid():
            continue
        state, uid = _status(pid_dir)
        if state in ("", "Z", "X"):
            continue
        if (owned_uid is not None and uid == owned_uid) or _has_marker(pid_dir, needle):
            found.append(int(pid_dir.name))
    return found


def sweep(sandbox_id: str, owned_uid: int | None = None, timeout_s: float = 3.0) -> int:
    """Kill every marked process until none is left (or ``timeout_s``); how many were seen."""
    deadline = time.monotonic() + timeout_s
    seen: set[int] = set()
    while True:
        alive = marked_processes(sandbox_id, owned_uid)
        if not alive or time.monotonic() > deadline:
            return len(seen)
        seen.update(alive)
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)
