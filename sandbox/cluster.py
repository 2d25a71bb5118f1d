"""Cluster backend: the same ``run`` submitted through Parsl, so a command runs inside the
local sandbox of a worker that Parsl placed (a Slurm job via SlurmProvider on clusters,
local worker processes or threads here). No scheduler of our own.

Workspaces must live on a filesystem the workers see (set ``root`` to a shared path on a
cluster). The Parsl configuration is the one the evals use (``ParslSettings``:
``threads``, ``htex-local`` or ``slurm`` with partition, account, walltime, worker_init).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from ellora.sandbox.records import Limits, RunResult


def run_on_worker(command: list[str], workspace: str, limits: dict, env: dict | None,
                  ro_binds: list[str]) -> dict:
    """What a Parsl worker executes: one local-sandbox run, returned as a plain dict."""
    from ellora.sandbox.local import LocalSandbox

    result = LocalSandbox(ro_binds=ro_binds).run(command, Path(workspace), Limits(**limits), env)
    return result.to_dict()


def _put_interpreter_bin_on_path() -> None:
    """Parsl starts its interchange and workers by script name; they live next to this
    Python (the venv's bin), which need not be on PATH when the venv is not activated."""
    import os
    import sys

    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


class ParslSandbox:
    """A :class:`Sandbox` whose runs execute on Parsl workers."""

    def __init__(self, root: Path | str | None = None, default_limits: Limits | None = None,
                 parsl: dict | None = None, ro_binds: Sequence[str] = ()):
        from ellora.evals.config import ParslSettings

        self.settings = ParslSettings(**(parsl or {}))
        self.root = Path(root) if root else Path(tempfile.gettempdir()) / "ellora-sandbox"
        self.default_limits = default_limits or Limits()
        self.ro_binds = [str(p) for p in ro_binds]
        self._dfk = None
        self._app = None
        self._lock = threading.Lock()

    @property
    def isolation(self) -> str:
        return f"parsl:{self.settings.executor}"

    def _submitter(self):
        with self._lock:
            if self._app is None:
                from ellora.evals.parallel import LABEL, parsl_config
                from parsl import python_app
                from parsl.dataflow.dflow import DataFlowKernel

                self.root.mkdir(parents=True, exist_ok=True)
                _put_interpreter_bin_on_path()
                self._dfk = DataFlowKernel(parsl_config(self.settings, self.root))
                self._app = python_app(run_on_worker, data_flow_kernel=self._dfk,
                                       executors=[LABEL])
            return self._app

    def new_workspace(self, prefix: str = "task-") -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.root))

    def discard_workspace(self, workspace: Path) -> None:
        import shutil

        shutil.rmtree(workspace, ignore_errors=True)

    def run(self, command: Sequence[str], workspace: Path, limits: Limits | None = None,
            env: Mapping[str, str] | None = None) -> RunResult:
        from dataclasses import asdict

        limits = limits or self.default_limits
        future = self._submitter()([str(c) for c in command], str(workspace), asdict(limits),
                                   dict(env or {}), self.ro_binds)
        result = RunResult(**future.result())
        result.notes.append(f"ran on a Parsl worker ({self.settings.executor})")
        return result

    def close(self) -> None:
        """Shut the Parsl workers down."""
        with self._lock:
            if self._dfk is not None:
                self._dfk.cleanup()
                self._dfk, self._app = None, None
