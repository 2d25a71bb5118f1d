"""Local sandbox backend: bubblewrap namespaces where they work, rlimits everywhere.

Each run gets a fresh id (``ELLORA_SANDBOX_ID`` in every process's environment) and, when the
caller is root, a fresh unprivileged uid that owns the workspace for the duration of the run
(everything in it is handed back to the workspace's owner afterwards). Under
bubblewrap the command sees only the system directories read-only, its workspace read-write,
private ``/tmp`` and ``/dev/shm``, loopback-only networking and its own pid namespace; the
rlimits fallback keeps only the limits, the process group, the uid switch and the sweep of
leftovers. This module and its siblings in ``sandbox/`` are the only ones that start
subprocesses.
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Literal

from ellora.sandbox import bwrap, launch, procs, workspaces
from ellora.sandbox.limits import classify
from ellora.sandbox.quota import QuotaWatch
from ellora.sandbox.records import Limits, RunResult, SandboxStopped

_BASE_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "TERM", "LD_LIBRARY_PATH")
_UID_BASE, _UID_SPAN = 1_900_000_000, 1 << 24  # per-run uids: far above any real account
Isolation = Literal["auto", "bubblewrap", "rlimits"]


def _read_capped(handle: IO[bytes], cap: int) -> tuple[str, bool]:
    handle.seek(0)
    data = handle.read(cap + 1)
    return data[:cap].decode("utf-8", errors="replace"), len(data) > cap


def _hand_over(workspace: Path, uid: int, gid: int) -> None:
    """Make ``uid:gid`` own the workspace and everything in it.

    ``fwalk`` with directory fds and ``follow_symlinks=False`` never leaves the tree, even if
    its contents were rearranged by the last run.
    """
    os.chown(workspace, uid, gid, follow_symlinks=False)
    for _, dirs, files, dir_fd in os.fwalk(workspace):
        for name in dirs + files:
            try:
                os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                pass


class LocalSandbox:
    """Runs commands in a fresh workspace under namespaces (if available), limits and a timeout.

    ``isolation``: "auto" (bubblewrap if it works here, else rlimits with a one-line warning),
    "bubblewrap" (fail if it does not work) or "rlimits". ``user``: "auto" (when running as
    root, a fresh unprivileged uid per run; otherwise the caller's own), a fixed uid, or None
    (never switch). ``ro_binds``: extra host paths to show read-only (e.g. ``/cvmfs``).
    """

    def __init__(self, root: Path | str | None = None, default_limits: Limits | None = None,
                 isolation: Isolation = "auto", user: Literal["auto"] | int | None = "auto",
                 ro_binds: Sequence[str] = ()):
        if isolation not in ("auto", "bubblewrap", "rlimits"):
            raise ValueError(f"isolation must be auto, bubblewrap or rlimits, not {isolation!r}")
        self.root = Path(root) if root else Path(tempfile.gettempdir()) / "ellora-sandbox"
        self.default_limits = default_limits or Limits()
        self.preferred_isolation = isolation
        self.user = user
        self.ro_binds = tuple(str(Path(p)) for p in ro_binds)
        self._live: set[int] = set()
        self._live_lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def isolation(self) -> str:
        """The isolation the next run will get: "bubblewrap" or "rlimits"."""
        return self._mode(self._run_uid())

    def new_workspace(self, prefix: str = "task-") -> Path:
        """A fresh empty directory under ``root`` (which stays traversable, never listable),
        owned by this process (see :mod:`ellora.sandbox.workspaces`). The first one of a
        process removes the workspaces that killed processes left behind."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.root.stat().st_uid == os.geteuid():
            os.chmod(self.root, 0o711)
        root = self.root.resolve()
        workspaces.clean_stale_once(root)
        return workspaces.create(root, prefix)

    def discard_workspace(self, workspace: Path) -> None:
        shutil.rmtree(workspace, ignore_errors=True)
        workspaces.release(Path(workspace))

    def keep_workspace(self, workspace: Path) -> None:
        """Keep ``workspace`` for good: it is never cleaned as a leftover."""
        workspaces.release(Path(workspace))

    def run(
        self,
        command: Sequence[str],
        workspace: Path,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
    ) -> RunResult:
        """Run ``command`` in ``workspace`` under ``limits``; every process of it is gone after."""
        limits = limits or self.default_limits
        if self._stopping.is_set():
            raise SandboxStopped("the sandbox was stopped: no new runs")
        workspace = Path(workspace).resolve()
        command = [str(part) for part in command]
        if not command:
            raise ValueError("empty command")
        if not workspace.is_dir():
            raise FileNotFoundError(f"workspace {workspace} is not a directory")
        uid = self._run_uid()
        mode = self._mode(uid)
        owner = workspace.stat()
        sandbox_id = uuid.uuid4().hex
        run_env = self._environment(workspace, sandbox_id, env, mode)
        if uid is not None:
            _hand_over(workspace, uid, uid)
        try:
            result = self._execute(command, workspace, limits, run_env, mode, uid)
        finally:
            if uid is not None:  # give everything back (files the run made included)
                _hand_over(workspace, owner.st_uid, owner.st_gid)
        if self._stopping.is_set():  # killed by stop(): its result means nothing
            raise SandboxStopped("the sandbox was stopped while the command ran")
        result.sandbox_id, result.uid = sandbox_id, uid
        result.notes += self._notes(mode, uid)
        return result

    def _execute(self, command: list[str], workspace: Path, limits: Limits,
                 env: dict[str, str], mode: str, uid: int | None) -> RunResult:
        """Spawn, wait under the wall limit and the disk quota, clean up, and turn the outcome
        into a RunResult."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            watch = QuotaWatch(workspace, limits.disk_mb)
            plan = launch.prepare(command, workspace, limits, env, mode, uid, self.ro_binds)
            process = self._spawn(plan, out, err) if plan else None
            if process is None:
                return RunResult(command, 127, "", f"command not found: {command[0]}", 0.0, 0.0,
                                 0.0, None, mode, str(workspace))
            owned_uid = uid if self.user == "auto" else None
            with self._live_run(process.pid):
                status, usage, ended_by = self._wait(process.pid, limits.wall_s, mode,
                                                     env[procs.MARKER], owned_uid, watch)
            wall = time.perf_counter() - start
            end = launch.outcome(status, usage, launch.read_report(plan.report_fd), mode,
                                 ended_by == "wall")
            stdout, cut_out = _read_capped(out, limits.output_bytes)
            stderr, cut_err = _read_capped(err, limits.output_bytes)
        if ended_by is None and watch.check():  # grew past the quota between two checks
            ended_by = "disk"
        limit_hit = ended_by or classify(end.exit_code, False, end.cpu_s, stderr, limits)
        if ended_by == "wall":
            end.notes.append("killed at the wall limit")
        elif ended_by == "disk":
            end.notes.append(watch.note())
        if end.full_tmpfs:
            end.notes.append(launch.tmpfs_note(end.full_tmpfs, limits))
            limit_hit = limit_hit or "memory"
        if cut_out or cut_err:
            end.notes.append(f"output truncated to {limits.output_bytes} bytes per stream")
        return RunResult(
            command=command, exit_code=end.exit_code, stdout=stdout, stderr=stderr, wall_s=wall,
            cpu_s=end.cpu_s, peak_rss_mb=end.peak_rss_mb, limit_hit=limit_hit,
            isolation=mode, workspace=str(workspace), truncated=cut_out or cut_err,
            notes=end.notes,
        )

    @contextmanager
    def _live_run(self, pid: int) -> Iterator[None]:
        """Book a running process so that :meth:`stop` can kill it."""
        with self._live_lock:
            self._live.add(pid)
        try:
            if self._stopping.is_set():
                procs.kill_group(pid)
            yield
        finally:
            with self._live_lock:
                self._live.discard(pid)

    def stop(self) -> None:
        """Kill every run in progress and refuse new ones (:class:`SandboxStopped`): for a
        caller that is shutting down (Ctrl-C) and must not wait for builds and timings."""
        self._stopping.set()
        with self._live_lock:
            running = list(self._live)
        for pid in running:
            procs.kill_group(pid)

    @staticmethod
    def _wait(pid: int, wall_s: float, mode: str, sandbox_id: str, owned_uid: int | None,
              watch: QuotaWatch | None = None) -> tuple[int, resource.struct_rusage, str | None]:
        """Wait for the spawned process, killing its group at the wall limit or the disk quota;
        then make sure nothing of the run is left. Returns (wait status, rusage, the limit that
        ended it: "wall", "disk" or None)."""
        status, ended_by = None, None
        try:
            ended_by = procs.wait_or_kill(pid, wall_s, watch)
            _, status, usage = os.wait4(pid, 0)
        finally:
            procs.kill_group(pid)
            # bubblewrap exits on its own only after reaping pid 1 of the namespace, and the
            # kernel lets pid 1 be reaped only once every other process in it is gone: then
            # there is nothing to sweep. Otherwise (killed, or the fallback) sweep.
            if not (mode == "bubblewrap" and status is not None and os.WIFEXITED(status)):
                procs.sweep(sandbox_id, owned_uid)
        return status, usage, ended_by

    @staticmethod
    def _spawn(plan: launch.Launch, out: IO[bytes], err: IO[bytes]) -> subprocess.Popen | None:
        """Start the planned process in its own process group; None if it cannot start."""
        try:
            return subprocess.Popen(plan.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    **plan.options)
        except (FileNotFoundError, PermissionError):
            if plan.report_fd is not None:
                os.close(plan.report_fd)
            return None
        finally:
            for fd in plan.close_after_spawn:
                os.close(fd)

    def _environment(self, workspace: Path, sandbox_id: str,
                     env: Mapping[str, str] | None, mode: str) -> dict[str, str]:
        """A small environment: a few host keys, HOME=workspace, the caller's, and the mark."""
        run_env = {key: os.environ[key] for key in _BASE_ENV_KEYS if key in os.environ}
        tmp = "/tmp" if mode == "bubblewrap" else str(workspace)
        run_env.update({"HOME": str(workspace), "TMPDIR": tmp, "USER": "sandbox",
                        "LOGNAME": "sandbox"})
        run_env.update({str(k): str(v) for k, v in (env or {}).items()})
        run_env[procs.MARKER] = sandbox_id
        return run_env

    def _run_uid(self) -> int | None:
        """The uid this run will use: a fresh one per run when root and ``user`` is "auto"."""
        if self.user == "auto":
            return _UID_BASE + secrets.randbelow(_UID_SPAN) if os.geteuid() == 0 else None
        if self.user is not None and os.geteuid() != 0 and self.user != os.geteuid():
            raise PermissionError("only root can run the sandbox as another user")
        return self.user

    def _mode(self, uid: int | None) -> str:
        """"bubblewrap" when wanted and working, else "rlimits" (warning once if unexpected)."""
        if self.preferred_isolation == "rlimits":
            return "rlimits"
        reason = bwrap.probe(uid)
        if reason is None:
            return "bubblewrap"
        if self.preferred_isolation == "bubblewrap":
            raise RuntimeError(f"bubblewrap sandbox unavailable: {reason}")
        bwrap.warn_fallback(reason)
        return "rlimits"

    @staticmethod
    def _notes(mode: str, uid: int | None) -> list[str]:
        """What this run's isolation does not cover, said plainly."""
        notes = []
        if mode == "rlimits":
            notes.append("network is not isolated (rlimits fallback, no bubblewrap)")
            notes.append("filesystem is not isolated beyond Unix permissions (rlimits fallback)")
        if uid is None and os.geteuid() == 0:
            notes.append("procs limit not enforced: the command runs as root")
        elif uid is None and mode == "rlimits":
            notes.append("procs limit counts every process of the calling user")
        return notes
