"""Turning :class:`Limits` into rlimits, and exit statuses back into the limit that was hit.

The same table feeds both ways of applying limits: ``setrlimit`` in the child before ``exec``
(the rlimits fallback) and ``prlimit`` inside the bubblewrap sandbox.
"""

from __future__ import annotations

import math
import resource
import signal

from ellora.sandbox.records import Limits

_MB = 1024 * 1024
_MEMORY_MESSAGES = ("std::bad_alloc", "Cannot allocate memory", "out of memory",
                    "MemoryError", "memory exhausted")
_FILE_SIZE_MESSAGES = ("File too large", "File size limit exceeded")
_PROCS_MESSAGES = ("Cannot fork", "fork: Resource temporarily unavailable",
                   "fork failed: Resource temporarily unavailable", "BlockingIOError")

# prlimit option name -> resource constant
_RESOURCES = {
    "cpu": resource.RLIMIT_CPU,
    "as": resource.RLIMIT_AS,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "nproc": resource.RLIMIT_NPROC,
    "core": resource.RLIMIT_CORE,
}


def _clamp(value: int, hard: int) -> int:
    """Never ask for more than the current hard limit (raising it needs privileges)."""
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def rlimit_table(limits: Limits, include_nproc: bool = True) -> list[tuple[str, int, int]]:
    """``(prlimit name, soft, hard)`` for every limit, clamped to what this process may set."""
    cpu = max(1, math.ceil(limits.cpu_s))
    wanted = {
        "cpu": (cpu, cpu + 1),  # soft: SIGXCPU, hard one second later: SIGKILL
        "as": (limits.memory_mb * _MB,) * 2,
        "fsize": (min(limits.file_mb, limits.disk_mb) * _MB,) * 2,  # one file < the quota
        "nofile": (limits.open_files,) * 2,
        "nproc": (limits.procs,) * 2,
        "core": (0, 0),
    }
    table = []
    for name, (soft, hard) in wanted.items():
        if name == "nproc" and not include_nproc:
            continue
        current_hard = resource.getrlimit(_RESOURCES[name])[1]
        hard = _clamp(hard, current_hard)
        table.append((name, min(soft, hard), hard))
    return table


def apply_rlimits(table: list[tuple[str, int, int]]) -> None:
    """Set every rlimit of ``table`` on the calling process (used between fork and exec)."""
    for name, soft, hard in table:
        resource.setrlimit(_RESOURCES[name], (soft, hard))


def prlimit_argv(table: list[tuple[str, int, int]], prlimit: str = "prlimit") -> list[str]:
    """The ``prlimit --cpu=S:H ... --`` prefix that applies ``table`` to the command it runs."""
    return [prlimit, *(f"--{name}={soft}:{hard}" for name, soft, hard in table), "--"]


def decode_shell_status(code: int | None) -> tuple[int | None, bool]:
    """Map a ``128+N`` status (how shells and bubblewrap report signal N) to ``-N``.

    Returns the decoded code and whether it was reinterpreted.
    """
    if code is not None and 128 < code < 128 + 65:
        return -(code - 128), True
    return code, False


def classify(exit_code: int | None, timed_out: bool, cpu_s: float, stderr: str,
             limits: Limits) -> str | None:
    """Which limit (if any) ended the command: wall, cpu, memory, file_size or procs (the
    disk quota and full private tmpfs are told by the sandbox itself)."""
    if timed_out:
        return "wall"
    if exit_code == -signal.SIGXCPU or (exit_code == -signal.SIGKILL and cpu_s >= limits.cpu_s):
        return "cpu"
    if exit_code == -signal.SIGXFSZ:
        return "file_size"
    if exit_code in (0, None):
        return None
    for name, messages in (("memory", _MEMORY_MESSAGES), ("file_size", _FILE_SIZE_MESSAGES),
                           ("procs", _PROCS_MESSAGES)):
        if any(message in stderr for message in messages):
            return name
    return None
