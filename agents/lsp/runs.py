"""Running one code action: validate, start the worker, stream progress, collect the outcome.

The document text is taken at the version the request names and handed to the agent as
``original`` (the graph never reads the user's file; the real path only names the file and
locates its local headers and ``<name>.harness.cpp``). The user's file is never written:
the change goes back to the editor as an edit against that version.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ellora.agents.lsp.actions import RunRequest, programming_model_of
from ellora.agents.lsp.config import deep_merge
from ellora.agents.lsp.documents import language_of
from ellora.agents.lsp.progress import ProgressTracker
from ellora.agents.lsp.worker_process import WorkerRun

log = logging.getLogger(__name__)
REQUEST_FAILED = -32803  # LSP 3.17 RequestFailed
INVALID_PARAMS = -32602
CONTENT_MODIFIED = -32801


class RunError(Exception):
    """A run ended without a result; ``code`` is the JSON-RPC error code to answer with."""

    def __init__(self, message: str, code: int = REQUEST_FAILED):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class RunInput:
    """Everything a run needs from the editor, captured when it starts."""

    request: RunRequest
    path: Path
    text: str
    version: int | None
    language: str


@dataclass
class RunOutcome:
    """What the worker produced."""

    kind: str  # "agent" | "explain"
    report: dict = field(default_factory=dict)
    candidate: str | None = None
    explanation: str = ""
    model: dict = field(default_factory=dict)


def capture_input(ls: Any, request: RunRequest) -> RunInput:
    """The open document at the version the action was computed for; raises ``RunError``."""
    from ellora.agents.cli.errors import UserError
    from ellora.agents.selection import require_code
    from ellora.agents.user_files import parse_line_range
    from pygls.uris import to_fs_path

    if ls.syntax.get(request.uri) is None:
        raise RunError(
            f"{request.uri} is not open as a C, C++, CUDA or Fortran document: open "
            "it in the editor and ask for the action again",
            -32602,
        )
    document = ls.workspace.get_text_document(request.uri)
    if request.version is not None and document.version != request.version:
        raise RunError(
            f"the document changed since the action was offered (version "
            f"{request.version} -> {document.version}): ask for it again",
            CONTENT_MODIFIED,
        )
    path = to_fs_path(request.uri) if request.uri.startswith("file:") else None
    if not path:
        raise RunError(
            f"{request.uri} is not a file on disk: save it first (its directory "
            "holds the headers and the test harness the agent uses)",
            -32602,
        )
    language = language_of(request.uri, document.language_id) or "cpp"
    try:
        first, last = parse_line_range(
            f"{request.first_line}-{request.last_line}", document.source, Path(path))
        require_code(document.source, first, last, Path(path), language,
                     fix="select the lines to change and ask again")
    except UserError as error:  # outside the document, empty, or no code in the lines
        raise RunError(str(error), -32602) from None
    return RunInput(request, Path(path), document.source, document.version, language)


def task_text(run: RunInput) -> str:
    """What the agent is asked: the user's own words, else the action's."""
    request = run.request
    if request.task:
        return request.task
    if request.action.id == "optimize":
        return request.action.task.format(model=programming_model_of(run.text))
    return request.action.task


def check_supported(run: RunInput) -> None:
    """Turn what the agent graph cannot do yet into one clear error before starting."""
    from ellora.agents.intent import UnsupportedTarget, read_intent

    action = run.request.action.id
    if action == "explain":
        return
    if action != "optimize" or run.request.task:
        try:
            read_intent(task_text(run))
        except UnsupportedTarget as error:
            raise RunError(str(error), INVALID_PARAMS) from None
    if run.language == "fortran":
        raise RunError(
            f"'{run.request.action.title}' works on C and C++ only so far (the agent "
            "builds and tests C++): 'Explain this code' works on Fortran"
        )
    if run.language == "cuda" or programming_model_of(run.text) == "cuda":
        raise RunError(
            f"'{run.request.action.title}' cannot build CUDA code yet: 'Explain this "
            "code' works on it"
        )


def build_job(run: RunInput, overrides: dict) -> dict:
    """The JSON job for the worker."""
    from ellora.agents.intent import read_intent
    from ellora.agents.runner import new_task_id
    from ellora.tools.verify import find_harness

    request = run.request
    if request.action.id == "explain":
        return {
            "kind": "explain",
            "overrides": overrides,
            "file": str(run.path),
            "language": run.language,
            "text": run.text,
            "first_line": request.first_line,
            "last_line": request.last_line,
        }
    task = task_text(run)
    if request.action.id == "optimize" and not request.task:
        target = programming_model_of(run.text)
        reason = f"optimizing keeps the code's own programming model ({target})"
        overrides = deep_merge(overrides, {"agent": {"prefer_transformations": False}})
    else:
        intent = read_intent(task)
        target, reason = intent.target, intent.reason
    harness = find_harness(run.path) if run.path.exists() else None
    state = {
        "task_id": new_task_id(),
        "task": task,
        "target_model": target,
        "file": str(run.path),
        "first_line": request.first_line,
        "last_line": request.last_line,
        "original": run.text,
        "harness": str(harness.resolve()) if harness else None,
        "status": "running",
        "steps": [],
    }
    return {"kind": "agent", "overrides": overrides, "state": state, "target_reason": reason}


class TaskProgress:
    """Work-done progress for one run: the client's token, or one the server creates."""

    def __init__(self, ls: Any, token: Any, title: str):
        self.ls, self.token, self.title = ls, token, title

    @classmethod
    async def open(cls, ls: Any, token: Any, title: str) -> TaskProgress:
        import uuid

        from pygls.exceptions import JsonRpcException

        capabilities = ls.client_capabilities.window
        if token is None and capabilities is not None and capabilities.work_done_progress:
            token = f"ellora-{uuid.uuid4().hex[:12]}"
            try:
                await ls.work_done_progress.create_async(token)
            except JsonRpcException as error:  # the client refused: run without progress
                log.info("no progress bar: %s", error)
                token = None
        return cls(ls, token, title)

    def begin(self, message: str) -> None:
        from lsprotocol import types

        if self.token is not None:
            self.ls.work_done_progress.begin(
                self.token,
                types.WorkDoneProgressBegin(
                    title=self.title, cancellable=True, message=message, percentage=0
                ),
            )

    def report(self, message: str, percentage: int) -> None:
        from lsprotocol import types

        if self.token is not None:
            self.ls.work_done_progress.report(
                self.token,
                types.WorkDoneProgressReport(
                    message=message, percentage=percentage, cancellable=True
                ),
            )

    def end(self, message: str) -> None:
        from lsprotocol import types

        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))


async def execute(
    ls: Any, run: RunInput, job: dict, progress: TaskProgress, request_id: Any
) -> RunOutcome:
    """Run ``job`` in a worker, reporting progress; cancellable by request id or token."""
    worker = WorkerRun(
        job,
        run.path.parent if run.path.parent.is_dir() else Path.cwd(),
        ls.settings.lsp.cancel_grace_s,
    )
    tracker = ProgressTracker()
    ls.tasks.add(worker, request_id, progress.token)
    final: dict | None = None
    try:
        progress.begin(tracker.begin_message() if job["kind"] == "agent" else "asking the model")
        if worker.cancelled:  # cancelled before it started: start nothing
            progress.end("cancelled")
            raise RunError("cancelled", -32800)
        try:
            await worker.start()
        except OSError as error:
            progress.end("the task worker did not start")
            raise RunError(f"cannot start the task worker: {error}") from None
        if worker.cancelled:  # cancelled while it was starting
            worker.cancel()
        async for event in worker.events():
            if event.get("event") == "step":
                progress.report(*tracker.advance(event.get("step") or {}))
            else:
                final = event
        code = await worker.wait()
    except asyncio.CancelledError:
        worker.cancel()
        progress.end("cancelled")
        raise
    finally:
        ls.tasks.remove(worker)
    if worker.cancelled:
        progress.end("cancelled")
        raise RunError("cancelled", -32800)
    return _outcome(final, code, worker, progress)


def _outcome(
    final: dict | None, code: int, worker: WorkerRun, progress: TaskProgress
) -> RunOutcome:
    if final is None:
        message = (
            f"the task worker exited with status {code} and no result: "
            f"{worker.stderr_tail() or 'no output'}"
        )
        progress.end(message)
        raise RunError(message)
    if final.get("event") == "error":
        progress.end(final.get("message", "failed"))
        raise RunError(final.get("message") or "the task failed")
    if final.get("event") == "explanation":
        progress.end("explained")
        return RunOutcome(
            "explain", explanation=final.get("text", ""), model=final.get("model") or {}
        )
    report = final.get("report") or {}
    progress.end(f"{report.get('status')}: {report.get('status_reason') or 'done'}"[:200])
    return RunOutcome("agent", report=report, candidate=final.get("candidate"))


class TaskBook:
    """Running workers by request id and by progress token, for cancellation."""

    def __init__(self) -> None:
        self._by_request: dict[Any, WorkerRun] = {}
        self._by_token: dict[Any, WorkerRun] = {}
        # requests cancelled before their worker existed (e.g. while progress was created)
        self._cancelled_early: collections.deque[Any] = collections.deque(maxlen=64)

    def add(self, worker: WorkerRun, request_id: Any, token: Any) -> None:
        if request_id is not None:
            self._by_request[request_id] = worker
            if request_id in self._cancelled_early:
                worker.cancel()
        if token is not None:
            self._by_token[token] = worker

    def remove(self, worker: WorkerRun) -> None:
        for table in (self._by_request, self._by_token):
            for key in [k for k, v in table.items() if v is worker]:
                del table[key]

    def cancel_request(self, request_id: Any) -> bool:
        worker = self._by_request.get(request_id)
        if worker is not None:
            worker.cancel()
        else:
            self._cancelled_early.append(request_id)
        return worker is not None

    def cancel_token(self, token: Any) -> bool:
        worker = self._by_token.get(token)
        if worker is not None:
            worker.cancel()
        return worker is not None

    def cancel_all(self) -> None:
        for worker in list(self._by_request.values()) + list(self._by_token.values()):
            worker.cancel()

    def __len__(self) -> int:
        return len({id(w) for w in [*self._by_request.values(), *self._by_token.values()]})
