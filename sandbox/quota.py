"""The workspace disk quota: how much one command may add to its workspace.

Bubblewrap binds the workspace read-write from the host's filesystem, which has no quota of
its own, and ``RLIMIT_FSIZE`` bounds a single file only. So while a command runs, a watcher
measures the workspace every so often (the bytes its files occupy, hard links counted once,
symbolic links never followed) and ends the run with ``limit_hit="disk"`` once it has grown
by more than ``Limits.disk_mb``. The same code runs for root and non-root callers and under
either isolation. What it cannot do is stop a write midway: a command may overshoot by what
it writes between two measurements (0.05 s near the quota, up to 0.25 s below half of it,
longer only when one measurement of a large tree takes long: watching costs at most a few
percent of one core). The per-file limit
is lowered to the quota as well, so a single file never exceeds it.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

_MB = 1024 * 1024
FIRST_INTERVAL_S = 0.05
CALM_INTERVAL_S = 0.25  # the pace while the workspace is below half its quota
MAX_INTERVAL_S = 2.0
COST_FACTOR = 20  # wait 20x as long as one measurement took: <= 5% of a core


def disk_usage(root: Path) -> int:
    """Bytes allocated to the files under ``root`` (directories included, links not
    followed, each inode once); entries that vanish meanwhile are skipped."""
    total, seen = 0, set()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
                if stat.S_ISDIR(info.st_mode):
                    stack.append(entry.path)
    return total


class QuotaWatch:
    """Measures one workspace during one run; :meth:`check` says "disk" once over quota."""

    def __init__(self, workspace: Path, disk_mb: int):
        self.workspace = workspace
        self.limit_bytes = max(0, disk_mb) * _MB
        self.baseline = disk_usage(workspace)
        self.peak_growth = 0
        self.interval = FIRST_INTERVAL_S
        self._next = time.monotonic() + self.interval

    def due_in(self) -> float:
        """Seconds until the next measurement."""
        return max(0.0, self._next - time.monotonic())

    def check(self) -> str | None:
        """Measure now; "disk" when the workspace grew past the quota, else None."""
        started = time.monotonic()
        grown = disk_usage(self.workspace) - self.baseline
        spent = time.monotonic() - started
        self.peak_growth = max(self.peak_growth, grown)
        # slow down while far from the quota (fewer wake-ups during timing runs), never below
        # what keeps the measuring cheap, and back to the fastest pace when near it
        relaxed = FIRST_INTERVAL_S if 2 * grown > self.limit_bytes else min(
            CALM_INTERVAL_S, self.interval * 1.5)
        self.interval = min(MAX_INTERVAL_S, max(relaxed, COST_FACTOR * spent))
        self._next = time.monotonic() + self.interval
        return "disk" if grown > self.limit_bytes else None

    def note(self) -> str:
        """One line for the run's notes when the quota was hit."""
        return (f"workspace grew by {self.peak_growth / _MB:.0f} MB, over its "
                f"{self.limit_bytes // _MB} MB quota (Limits.disk_mb)")
