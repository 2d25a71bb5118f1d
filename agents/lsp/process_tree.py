"""Linux process-tree helpers for the task worker: find and kill every descendant.

The sandbox starts each command in a session of its own, so killing the worker's process
group alone would not reach compilers or test binaries. The worker therefore makes itself a
child subreaper (orphans of its tree are re-parented to it, never to init) and, when told to
stop, kills every process whose parent chain leads back to it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Adopt orphaned descendants so :func:`descendants` sees the whole tree."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(parent_pid: int) -> None:
    """Receive SIGTERM when the parent (the language server) dies; exit now if it already has."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGTERM)


def _parents() -> dict[int, int]:
    """pid -> parent pid for every live process."""
    table: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields and fields[0] not in ("Z", "X"):
            table[int(entry.name)] = int(fields[1])
    return table


def descendants(pid: int) -> list[int]:
    """Live (non-zombie) processes below ``pid``, parents before children."""
    parents = _parents()
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, stack = [], list(children.get(pid, []))
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def kill_descendants(pid: int, timeout_s: float = 3.0) -> int:
    """SIGKILL everything below ``pid`` until nothing is left (or ``timeout_s``); how many."""
    deadline = time.monotonic() + timeout_s
    seen: set[int] = set()
    while time.monotonic() < deadline:
        alive = descendants(pid)
        if not alive:
            break
        seen.update(alive)
        for child in alive:
            try:
                os.kill(child, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)
    return len(seen)
