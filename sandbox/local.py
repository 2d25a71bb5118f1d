"""Local sandbox backend: a workspace directory, its own process group, rlimits, a wall timeout.

This is the only module (with its siblings in ``sandbox/``) that starts subprocesses.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Mapping, Sequence

from ellora.sandbox.records import Limits, RunResult

_BASE_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "TERM", "LD_LIBRARY_PATH")
_MEMORY_MESSAGES = ("std::bad_alloc", "Cannot allocate memory", "out of memory")


def _read_capped(path: Path, cap: int) -> tuple[str, bool]:
    with open(path, "rb") as handle:
        data = handle.read(cap + 1)
    return data[:cap].decode("utf-8", errors="replace"), len(data) > cap


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class LocalSandbox:
    """Runs commands in a fresh process group under rlimits with a wall-clock timeout."""

    isolation = "rlimits"

    def __init__(self, root: Path | str | None = None, default_limits: Limits | None = None):
        self.root = Path(root) if root else Path(tempfile.gettempdir()) / "ellora-sandbox"
        self.default_limits = default_limits or Limits()

    def new_workspace(self, prefix: str = "task-") -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.root))

    def discard_workspace(self, workspace: Path) -> None:
        shutil.rmtree(workspace, ignore_errors=True)

    def run(
        self,
        command: Sequence[str],
        workspace: Path,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
    ) -> RunResult:
        limits = limits or self.default_limits
        workspace = Path(workspace)
        command = [str(part) for part in command]
        run_env = {key: os.environ[key] for key in _BASE_ENV_KEYS if key in os.environ}
        run_env.update({"HOME": str(workspace), "TMPDIR": str(workspace)})
        run_env.update(env or {})
        out_path, err_path = workspace / ".sandbox.stdout", workspace / ".sandbox.stderr"
        start = time.perf_counter()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            process = self._spawn(command, workspace, run_env, limits, out, err)
            if process is None:
                return RunResult(command, 127, "", f"command not found: {command[0]}", 0.0, 0.0,
                                 0.0, None, self.isolation, str(workspace))
            pid = process.pid
            timed_out = threading.Event()

            def on_timeout() -> None:
                timed_out.set()
                _kill_group(pid)

            timer = threading.Timer(limits.wall_s, on_timeout)
            timer.start()
            try:
                _, status, usage = os.wait4(pid, 0)
                process.returncode = os.waitstatus_to_exitcode(status)
            finally:
                timer.cancel()
                _kill_group(pid)  # leftovers of the group never outlive the command
        wall = time.perf_counter() - start
        stdout, cut_out = _read_capped(out_path, limits.output_bytes)
        stderr, cut_err = _read_capped(err_path, limits.output_bytes)
        out_path.unlink(missing_ok=True)
        err_path.unlink(missing_ok=True)
        exit_code = process.returncode
        cpu = usage.ru_utime + usage.ru_stime
        peak_mb = usage.ru_maxrss / 1024.0
        return RunResult(
            command=command, exit_code=exit_code, stdout=stdout, stderr=stderr, wall_s=wall,
            cpu_s=cpu, peak_rss_mb=peak_mb,
            limit_hit=self._limit_hit(exit_code, timed_out.is_set(), cpu, stderr, limits),
            isolation=self.isolation, workspace=str(workspace), truncated=cut_out or cut_err,
        )

    @staticmethod
    def _spawn(command, workspace, env, limits: Limits, out, err) -> subprocess.Popen | None:
        mb = 1024 * 1024

        def apply_limits() -> None:  # runs in the child between fork and exec
            resource.setrlimit(resource.RLIMIT_CPU, (int(limits.cpu_s), int(limits.cpu_s) + 1))
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb, limits.memory_mb * mb))
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb, limits.file_mb * mb))
            resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.procs, limits.procs))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        try:
            return subprocess.Popen(
                command, cwd=workspace, env=dict(env), stdin=subprocess.DEVNULL, stdout=out,
                stderr=err, start_new_session=True, preexec_fn=apply_limits,
            )
        except (FileNotFoundError, PermissionError):
            return None

    @staticmethod
    def _limit_hit(exit_code, timed_out, cpu_s, stderr, limits: Limits) -> str | None:
        if timed_out:
            return "wall"
        if exit_code in (-signal.SIGXCPU,) or (exit_code == -signal.SIGKILL and cpu_s >= limits.cpu_s):
            return "cpu"
        if exit_code == -signal.SIGXFSZ:
            return "file_size"
        if exit_code not in (0, None) and any(m in stderr for m in _MEMORY_MESSAGES):
            return "memory"
        return None
