"""A run directory: its arguments, generated samples and evaluated records, append-only.

``run.json`` holds the arguments; ``generations.jsonl`` one line per generated sample (code,
tokens, time); ``records.jsonl`` one line per finished sample (generation + evaluation).
A killed run restarted with the same arguments reads both files and skips what is done; a
line cut off by the kill is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path


def run_name(arguments: dict) -> str:
    """A stable, readable name for a run: the same arguments always give the same name."""
    digest = hashlib.sha256(json.dumps(arguments, sort_keys=True).encode()).hexdigest()[:10]
    mode = "agent" if arguments.get("agent") else "alone"
    model = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in arguments["model"])
    return f"{arguments['suite_name']}-{model}-{mode}-{digest}"


def sample_key(task_id: str, index: int) -> str:
    return f"{task_id}#{index}"


class RunStore:
    """Reads and appends the files of one run directory (thread-safe appends)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()

    @property
    def arguments_path(self) -> Path:
        return self.folder / "run.json"

    def open(self, arguments: dict) -> None:
        """Create the run, or check that an existing one has the same arguments."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.arguments_path.is_file():
            stored = json.loads(self.arguments_path.read_text())
            if stored != arguments:
                changed = sorted(k for k in set(stored) | set(arguments)
                                 if stored.get(k) != arguments.get(k))
                raise ValueError(f"run {self.folder} was started with other arguments "
                                 f"({', '.join(changed)}); use another --name or --out")
            return
        self.arguments_path.write_text(json.dumps(arguments, indent=1, sort_keys=True))

    def arguments(self) -> dict:
        return json.loads(self.arguments_path.read_text())

    def _read(self, name: str) -> list[dict]:
        path = self.folder / name
        if not path.is_file():
            return []
        rows = []
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut off when the run was killed
        return rows

    def _append(self, name: str, row: dict) -> None:
        line = json.dumps(row, default=str) + "\n"
        path = self.folder / name
        with self._lock, open(path, "a+b") as handle:
            if handle.tell() > 0:  # a kill can leave a last line without its newline
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    line = "\n" + line
            handle.write(line.encode())
            handle.flush()
            os.fsync(handle.fileno())

    def generations(self) -> dict[str, dict]:
        return {row["key"]: row for row in self._read("generations.jsonl")}

    def records(self) -> list[dict]:
        unique = {row["key"]: row for row in self._read("records.jsonl")}
        return list(unique.values())

    def add_generation(self, row: dict) -> None:
        self._append("generations.jsonl", row)

    def add_record(self, row: dict) -> None:
        self._append("records.jsonl", row)

    def add_phases(self, phases: dict) -> None:
        """Where one invocation's wall time went (``phases.jsonl``, one line per invocation:
        a resumed run adds a line): start-up, generation, builds and checks, timing."""
        self._append("phases.jsonl", phases)

    def phases(self) -> list[dict]:
        return self._read("phases.jsonl")
