"""A progress bar on stderr for eval runs: samples done, built, passed, elapsed and ETA."""

from __future__ import annotations

import sys
import threading
import time


class Progress:
    """Redrawn in place on a terminal; one line per sample otherwise (logs, CI)."""

    def __init__(self, total: int, already: int = 0, quiet: bool = False, stream=None,
                 width: int = 30, label: str = "eval"):
        self.total, self.done, self.quiet, self.label = total, already, quiet, label
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.fresh = 0
        self.built = self.passed = 0
        self._lock = threading.Lock()
        if already and not quiet:
            print(f"[{label}] resuming: {already}/{total} samples already done", file=self.stream)

    def update(self, record: dict) -> None:
        with self._lock:
            self.done += 1
            self.fresh += 1
            self.built += bool(record.get("built"))
            self.passed += record.get("valid") is True
            if not self.quiet:
                self._draw(record)

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        left = self.total - self.done
        eta = elapsed / self.fresh * left if self.fresh else 0.0
        filled = int(self.width * self.done / self.total) if self.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        counts = f" built {self.built} passed {self.passed}" if self.label == "eval" else ""
        return (f"[{self.label}] [{bar}] {self.done}/{self.total}{counts} | "
                f"{_clock(elapsed)} elapsed, {_clock(eta)} left")

    def _draw(self, record: dict) -> None:
        if self.stream.isatty():
            print("\r" + self.line(), end="", file=self.stream, flush=True)
        else:
            print(f"{self.line()} | {record.get('key')}: {record.get('status')}",
                  file=self.stream, flush=True)

    def close(self) -> None:
        if not self.quiet and self.stream.isatty():
            print(file=self.stream)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
