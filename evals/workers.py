"""Per-process context for evaluation tasks: one sandbox and one toolchain per worker process,
and the node-local lock that keeps builds off the machine while a sample is timed.

Tasks receive plain data (picklable for Parsl's process and Slurm executors) and rebuild
their context here once per process.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ellora.sandbox import Limits


@dataclass
class WorkerContext:
    """What an evaluation task runs with."""

    settings: object  # ellora.agents.settings.Settings
    sandbox: object
    toolchain: object

    @property
    def evals(self):
        return self.settings.evals

    def build_limits(self) -> Limits:
        base = self.settings.sandbox
        return Limits(wall_s=self.evals.build_wall_s, cpu_s=max(base.cpu_s, 2 * self.evals.build_wall_s),
                      memory_mb=base.memory_mb, procs=base.procs, disk_mb=base.disk_mb,
                      output_bytes=self.evals.output_bytes)

    def run_limits(self) -> Limits:
        base = self.settings.sandbox
        wall = self.evals.run_wall_s
        return Limits(wall_s=wall, cpu_s=wall * 64, memory_mb=base.memory_mb, procs=base.procs,
                      disk_mb=base.disk_mb, output_bytes=self.evals.output_bytes)


_lock = threading.Lock()
_contexts: dict[str, WorkerContext] = {}
_stopping = threading.Event()


class EvalStopped(RuntimeError):
    """Raised by tasks that start (or run on) after :func:`stop_local_work`."""


def _context_for(settings_json: str) -> WorkerContext:
    from ellora.agents.services import create_task_sandbox
    from ellora.agents.settings import Settings
    from ellora.tools.toolchain import detect_toolchain

    settings = Settings.model_validate_json(settings_json)
    sandbox = create_task_sandbox(settings)
    toolchain = detect_toolchain(sandbox, settings=settings.toolchain)
    return WorkerContext(settings, sandbox, toolchain)


def worker_context(settings_json: str) -> WorkerContext:
    """The context for these settings in this process, created on first use; raises
    :class:`EvalStopped` once the run is stopping."""
    with _lock:
        if _stopping.is_set():
            raise EvalStopped("the evaluation is stopping")
        if settings_json not in _contexts:
            _contexts[settings_json] = _context_for(settings_json)
        return _contexts[settings_json]


def stop_local_work() -> None:
    """Ctrl-C: kill the builds and runs of this process's tasks and make the tasks still
    queued end at once (their results are not recorded)."""
    _stopping.set()
    with _lock:
        sandboxes = [context.sandbox for context in _contexts.values()]
    for sandbox in sandboxes:
        stop = getattr(sandbox, "stop", None)
        if stop is not None:
            stop()


def resume_local_work() -> None:
    """Allow tasks again (a new run in the same process after a stopped one)."""
    with _lock:
        if _stopping.is_set():
            _stopping.clear()
            _contexts.clear()  # their sandboxes were stopped for good


def _lock_path() -> Path:
    return Path(tempfile.gettempdir()) / f"ellora-eval-{os.getuid()}.lock"


@contextmanager
def machine_lock(exclusive: bool, enabled: bool = True) -> Iterator[None]:
    """Shared for builds and checks, exclusive for timing runs: node-local, across threads,
    processes and every eval run of this user on the node."""
    if not enabled:
        yield
        return
    with open(_lock_path(), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
