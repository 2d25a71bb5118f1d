"""Handing a finished run back to the editor: the Markdown report and the edit.

The edit is computed against the document version the run started from. If the document
moved on while the agent worked, nothing is sent (``ContentModified``): applying a change
computed for other text could silently corrupt the file. The report is written either way.
"""

from __future__ import annotations

import logging
from typing import Any

from ellora.agents.lsp.edits import workspace_edit
from ellora.agents.lsp.reports import agent_report_markdown, explanation_markdown, write_report
from ellora.agents.lsp.runs import CONTENT_MODIFIED, RunError, RunInput, RunOutcome
from pygls.exceptions import JsonRpcException

log = logging.getLogger(__name__)


def summary_line(title: str, report: dict) -> str:
    """``Parallelize with OpenMP: verified, 1.85x at 2 threads``."""
    status = report.get("status", "failed")
    speedups = report.get("speedups") or {}
    text = f"{title}: {status}"
    if speedups:
        threads, best = max(speedups.items(), key=lambda item: item[1])
        text += f", {best:.2f}x at {threads} thread(s)"
    if status != "verified" and report.get("status_reason"):
        text += f" ({report['status_reason']})"
    return text


def moved_on(ls: Any, run: RunInput) -> str | None:
    """Why the run's edit no longer fits the document, or None when it still does."""
    if ls.syntax.get(run.request.uri) is None:
        return "the document was closed while the task ran"
    current = ls.workspace.get_text_document(run.request.uri)
    if current.version != run.version or current.source != run.text:
        return (
            f"the document changed while the task ran (version {run.version} -> {current.version})"
        )
    return None


def prepare_edit(ls: Any, run: RunInput, outcome: RunOutcome) -> tuple[Any, str]:
    """``(WorkspaceEdit or None, what happens to it)`` for an agent outcome."""
    report, candidate = outcome.report, outcome.candidate
    status = report.get("status")
    wanted = status == "verified" or (status == "unverified" and ls.settings.lsp.apply_unverified)
    if not candidate or candidate == run.text:
        return None, f"none ({status}: no change to offer)"
    if not wanted:
        return None, (
            f"none: the change is {status}; see the diff below (set "
            "lsp.apply_unverified to receive unverified edits)"
        )
    why = moved_on(ls, run)
    if why is not None:
        return None, f"not sent: {why}; rerun the action on the current text"
    capabilities = ls.client_capabilities.workspace
    versioned = bool(
        capabilities
        and capabilities.workspace_edit
        and capabilities.workspace_edit.document_changes
    )
    codec = ls.workspace.get_text_document(run.request.uri).position_codec
    edit = workspace_edit(run.request.uri, run.version, run.text, candidate, codec, versioned)
    return edit, f"sent to the editor against document version {run.version}"


async def show_report(ls: Any, path: Any, summary: str, ok: bool) -> None:
    """Open the report beside the code when the client can, else say where it is."""
    from lsprotocol import types

    window = ls.client_capabilities.window
    if window is not None and window.show_document and window.show_document.support:
        try:
            await ls.window_show_document_async(
                types.ShowDocumentParams(uri=path.as_uri(), external=False, take_focus=False)
            )
            if ok:
                return
        except JsonRpcException as error:  # the client refused; the report stays on disk
            log.info("showDocument failed: %s", error)
    kind = types.MessageType.Info if ok else types.MessageType.Warning
    ls.window_show_message(
        types.ShowMessageParams(type=kind, message=f"Ellora: {summary}. Report: {path}")
    )


async def finish_agent(ls: Any, run: RunInput, outcome: RunOutcome) -> tuple[Any, dict]:
    """Write and show the report; returns the edit to deliver (or None) and the result."""
    edit, note = prepare_edit(ls, run, outcome)
    report = outcome.report
    name = report.get("task_id") or "task"
    path = write_report(
        ls.settings.state_dir / "lsp-reports", name, agent_report_markdown(report, note)
    )
    summary = summary_line(run.request.action.title, report)
    await show_report(ls, path, summary, edit is not None)
    result = {
        "taskId": report.get("task_id"),
        "status": report.get("status"),
        "statusReason": report.get("status_reason", ""),
        "target": report.get("target_model"),
        "targetReason": report.get("target_reason"),
        "edit": note,
        "speedups": report.get("speedups") or {},
        "report": str(path),
        "patch": report.get("patch"),
    }
    if note.startswith("not sent"):
        raise RunError(f"{summary}: {note}. Report: {path}", CONTENT_MODIFIED)
    return edit, result


async def finish_explain(ls: Any, run: RunInput, outcome: RunOutcome) -> dict:
    """Write and show the explanation."""
    import uuid

    markdown = explanation_markdown(
        str(run.path),
        run.request.first_line,
        run.request.last_line,
        outcome.explanation,
        outcome.model,
    )
    path = write_report(
        ls.settings.state_dir / "lsp-reports", f"explain-{uuid.uuid4().hex[:12]}", markdown
    )
    first_line = next((line for line in outcome.explanation.splitlines() if line.strip()), "")
    await show_report(ls, path, f"explanation ready: {first_line[:120]}", True)
    return {"status": "explained", "report": str(path), "explanation": outcome.explanation}
