"""Typed records shared by every sandbox backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol


class SandboxStopped(RuntimeError):
    """Raised by a sandbox that was told to stop (its caller is shutting down)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed command."""

    wall_s: float = 120.0
    cpu_s: float = 240.0
    memory_mb: int = 8192
    procs: int = 512
    file_mb: int = 2048
    disk_mb: int = 2048  # what one command may add to its workspace (a watcher enforces it)
    open_files: int = 4096
    output_bytes: int = 1_000_000

    def replace(self, **changes) -> Limits:
        return Limits(**{**asdict(self), **changes})


@dataclass
class RunResult:
    """What happened when a command ran in the sandbox."""

    command: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    limit_hit: str | None = None
    isolation: str = "rlimits"
    workspace: str = ""
    truncated: bool = False
    notes: list[str] = field(default_factory=list)
    sandbox_id: str = ""  # ELLORA_SANDBOX_ID set in every process of the run
    uid: int | None = None  # host uid the command ran as (None: the caller's own)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.limit_hit is None

    def to_dict(self) -> dict:
        return asdict(self)


class Sandbox(Protocol):
    """Runs a command inside a workspace under limits; never touches anything outside it."""

    def run(
        self,
        command: Sequence[str],
        workspace: Path,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
    ) -> RunResult: ...

    def new_workspace(self, prefix: str = "task-") -> Path: ...

    def discard_workspace(self, workspace: Path) -> None: ...
