"""The server's handle on one task worker subprocess.

Why a subprocess and not a thread: a cancelled task must stop *now*, including the compilers
and test binaries it started in the sandbox. A thread cannot be stopped from outside; a
process in its own session can be signalled as a whole: SIGTERM makes the worker kill its
descendants and exit (:mod:`ellora.agents.lsp.worker`), and SIGKILL of its process group
after ``grace_s`` covers a worker that does not react. The agent's checkpoint stays, so a
cancelled task can be resumed with ``ellora-agent --resume``. The worker is our own trusted
code; untrusted code still runs only inside the sandbox.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

log = logging.getLogger(__name__)
_LINE_LIMIT = 64 * 1024 * 1024  # a report with logs and the candidate can be large


class WorkerRun:
    """One job in one worker process: start, stream events, cancel, collect the exit."""

    def __init__(self, job: dict, cwd: Path, grace_s: float):
        self.job = job
        self.cwd = cwd
        self.grace_s = grace_s
        self.cancelled = False
        self.process: asyncio.subprocess.Process | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self._stderr_task: asyncio.Task | None = None

    async def start(self) -> None:
        env = {**os.environ, "ELLORA_LSP_SERVER_PID": str(os.getpid()), "PYTHONUNBUFFERED": "1"}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ellora.agents.lsp.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(self.cwd),
            env=env,
            start_new_session=True,
            limit=_LINE_LIMIT,
        )
        self.process.stdin.write(json.dumps(self.job).encode())
        await self.process.stdin.drain()
        self.process.stdin.close()
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while line := await self.process.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            self._stderr_tail.append(text)
            log.debug("worker %s: %s", self.process.pid, text)

    async def events(self) -> AsyncIterator[dict]:
        """Every JSON event the worker writes, until it closes its output."""
        assert self.process is not None and self.process.stdout is not None
        while line := await self.process.stdout.readline():
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                log.warning("worker wrote a line that is not JSON: %.200s", line)

    async def wait(self) -> int:
        """The worker's exit status once it and its stderr are done."""
        assert self.process is not None
        code = await self.process.wait()
        if self._stderr_task is not None:
            await self._stderr_task
        return code

    def stderr_tail(self, lines: int = 5) -> str:
        return " | ".join(list(self._stderr_tail)[-lines:])

    def cancel(self) -> None:
        """Stop the worker and everything it started: SIGTERM now, SIGKILL after the grace."""
        self.cancelled = True
        if self.process is None or self.process.returncode is not None:
            return
        pid = self.process.pid
        _signal_group(pid, signal.SIGTERM)
        asyncio.get_running_loop().call_later(self.grace_s, self._kill_if_alive, pid)

    def _kill_if_alive(self, pid: int) -> None:
        if self.process is not None and self.process.returncode is None:
            log.warning("worker %s ignored SIGTERM for %.1f s: killing it", pid, self.grace_s)
            _signal_group(pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass
