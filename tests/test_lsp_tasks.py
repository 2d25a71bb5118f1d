"""``ellora lsp`` running the agents: progress, workspace/applyEdit, codeAction/resolve,
cancellation ($/cancelRequest and progress cancel) down to the sandboxed processes, edits
racing a task, a model that is down, Explain over an OpenAI-compatible endpoint, and compiler
diagnostics on save. Real server, real worker, real sandbox and compilers (saxpy lines 5-7
is provably parallel: the verified OpenMP transformation needs no model)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import pytest_lsp
from lsp_support import (
    LEAN_AGENT,
    SERVER,
    actions_at,
    copy_saxpy,
    ellora_client,
    open_document,
    processes_mentioning,
    start_session,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

SLOW_AGENT = {"agent": {"timing_size": 20_000_000, "timing_repeats": 9}}


@pytest.fixture(autouse=True)
def private_tmpdir(tmp_path, monkeypatch):
    """The server, its workers and their sandbox workspaces use this test's own TMPDIR, so
    leftover processes can be told apart from other tests' by their environment."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, client_factory=ellora_client))
async def client(lsp_client: LanguageClient, tmp_path):
    await start_session(lsp_client, tmp_path, LEAN_AGENT)
    lsp_client.applied_edits = []

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams):
        lsp_client.applied_edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    yield
    await lsp_client.shutdown_session()


def run_params(action: types.CodeAction, token: str | None = None) -> types.ExecuteCommandParams:
    return types.ExecuteCommandParams(command=action.command.command,
                                      arguments=action.command.arguments, work_done_token=token)


def shown_text(shown: types.ShowDocumentParams) -> str:
    """The Markdown report the server asked the editor to show."""
    return Path(shown.uri.removeprefix("file://")).read_text()


async def action_named(client, uri, title):
    return next(a for a in await actions_at(client, uri, (5, 8)) if a.title == title)


@pytest.mark.asyncio
async def test_execute_command_reports_progress_and_sends_a_versioned_edit(client, tmp_path):
    saxpy = copy_saxpy(tmp_path)
    uri = open_document(client, saxpy)
    client.progress_reports["run-1"] = []
    result = await client.workspace_execute_command_async(
        run_params(await action_named(client, uri, "Parallelize with OpenMP"), "run-1"))
    assert result["status"] == "verified" and result["applied"] is True
    assert result["target"] == "openmp" and "asks for OpenMP" in result["targetReason"]
    progress = client.progress_reports["run-1"]
    assert progress[0].kind == "begin" and progress[0].cancellable
    assert progress[-1].kind == "end"
    messages = " ".join(p.message or "" for p in progress)
    for phase in ("planner:", "coding (attempt 1)", "compile attempt 1 and testing",
                  "profiling"):
        assert phase in messages
    [edit] = client.applied_edits
    [change] = edit.edit.document_changes
    assert change.text_document.uri == uri and change.text_document.version == 1
    assert "#pragma omp parallel for" in change.edits[0].new_text
    assert "#pragma omp" not in saxpy.read_text()  # the server never writes the user's file
    [shown] = client.shown_documents
    text = shown_text(shown)
    assert "**Status: verified**" in text and "| candidate |" in text and "```diff" in text
    assert "Target: openmp: the task asks for OpenMP ('with openmp')" in text


@pytest.mark.asyncio
async def test_resolve_returns_the_edit_in_the_code_action(client, tmp_path):
    uri = open_document(client, copy_saxpy(tmp_path))
    action = await action_named(client, uri, "Parallelize with OpenMP")
    resolved = await client.code_action_resolve_async(action)
    assert resolved.command is None and not client.applied_edits
    [change] = resolved.edit.document_changes
    assert "#pragma omp parallel for" in change.edits[0].new_text


async def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["cancelRequest", "progressCancel", "cancelResolve"])
async def test_cancel_stops_the_task_and_its_sandboxed_processes(client, tmp_path,
                                                                 private_tmpdir, how):
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"ellora": SLOW_AGENT}))
    uri = open_document(client, copy_saxpy(tmp_path))
    action = await action_named(client, uri, "Parallelize with OpenMP")
    client.progress_reports["run-2"] = []
    method, params = (types.CODE_ACTION_RESOLVE, action) if how == "cancelResolve" else \
        (types.WORKSPACE_EXECUTE_COMMAND, run_params(action, "run-2"))
    request = asyncio.ensure_future(client.protocol.send_request_async(method, params,
                                                                       msg_id="run-2"))
    sandboxed = f"{private_tmpdir}/ellora-sandbox/"
    await wait_for(lambda: processes_mentioning(sandboxed), 60, "a sandboxed build or run")
    assert processes_mentioning("ELLORA_LSP_SERVER_PID=")
    if how != "progressCancel":
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="run-2"))
    else:
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams("run-2"))
    with pytest.raises(JsonRpcException) as error:
        await asyncio.wait_for(request, 30)
    assert error.value.code == -32800
    await wait_for(lambda: not processes_mentioning(sandboxed) and not [
        p for p in processes_mentioning(f"TMPDIR={private_tmpdir}")
        if p in processes_mentioning("ELLORA_LSP_SERVER_PID=")], 10, "every process to stop")
    [reports] = [r for r in client.progress_reports.values() if r]  # "run-2" or the server's
    await wait_for(lambda: reports[-1].kind == "end", 10, "the end of the progress")
    assert reports[-1].message == "cancelled"
    assert len(await actions_at(client, uri, (5, 8))) == 6  # still serving


@pytest.mark.asyncio
async def test_an_edit_during_the_task_rejects_the_result_cleanly(client, tmp_path):
    uri = open_document(client, copy_saxpy(tmp_path))
    action = await action_named(client, uri, "Parallelize with OpenMP")
    request = asyncio.ensure_future(client.workspace_execute_command_async(run_params(action)))
    await asyncio.sleep(0.5)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)), text="// hi\n")]))
    with pytest.raises(JsonRpcException, match="changed while the task ran") as error:
        await request
    assert error.value.code == -32801
    assert not client.applied_edits
    assert any("version 1 -> 2" in m.message for m in client.messages)


PREFIX_SUM = """void prefix_sum(int n, double* a) {
  for (int i = 1; i < n; ++i) {
    a[i] += a[i - 1];
  }
}
"""


@pytest.mark.asyncio
async def test_a_refused_loop_is_reported_with_its_reason_and_no_edit(client, tmp_path):
    source = tmp_path / "scan.cpp"
    source.write_text(PREFIX_SUM)
    uri = open_document(client, source)
    [action] = [a for a in await actions_at(client, uri, (2, 6)) if a.title == "Port to Kokkos"]
    result = await client.workspace_execute_command_async(run_params(action))
    assert result["status"] == "refused" and result["applied"] is False
    assert result["statusReason"] and not client.applied_edits
    [warning] = [m for m in client.messages if m.type == types.MessageType.Warning]
    assert "Port to Kokkos: refused" in warning.message and result["statusReason"] in \
        warning.message
    assert "**Status: refused**" in shown_text(client.shown_documents[0])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.asyncio
async def test_a_model_that_is_down_is_an_lsp_error(client, tmp_path):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={
        "modelEndpoint": f"http://127.0.0.1:{closed_port()}/v1",
        "model": {"max_retries": 0, "timeout_s": 5}}))
    uri = open_document(client, copy_saxpy(tmp_path))
    for title in ("Explain this code", "Optimize (profile-guided)"):
        with pytest.raises(JsonRpcException, match="model unavailable") as error:
            await client.workspace_execute_command_async(
                run_params(await action_named(client, uri, title)))
        assert error.value.code == -32803
    assert len(await actions_at(client, uri, (5, 8))) == 6


class ChatEndpoint:
    """A minimal OpenAI-compatible /v1/chat/completions that answers every prompt alike."""

    def __init__(self, answer: str):
        self.prompts: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.prompts.append(body["messages"][-1]["content"])
                data = json.dumps({"id": "1", "model": "fake", "choices": [{
                    "index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": answer}}],
                    "usage": {"prompt_tokens": 50, "completion_tokens": 9}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.asyncio
async def test_explain_shows_the_model_answer_as_a_report(client, tmp_path):
    endpoint = ChatEndpoint("## What it does\nSAXPY: y = a*x + y, one independent update per i.")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"modelEndpoint": endpoint.url}))
    uri = open_document(client, copy_saxpy(tmp_path))
    result = await client.workspace_execute_command_async(
        run_params(await action_named(client, uri, "Explain this code")))
    endpoint.server.shutdown()
    assert result["status"] == "explained"
    assert "y[i] = a * x[i] + y[i];" in endpoint.prompts[0] and "lines 5-7" in endpoint.prompts[0]
    [shown] = client.shown_documents
    assert "SAXPY: y = a*x + y" in shown_text(shown)


@pytest.mark.asyncio
async def test_diagnostics_on_save_come_from_the_sandbox_build(client, tmp_path):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"diagnosticsOnSave": True}))
    source = tmp_path / "bad.cpp"
    source.write_text("int twice(int x) {\n  return 2 * y;\n}\n")
    uri = open_document(client, source)
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri), text=source.read_text()))
    await wait_for(lambda: client.diagnostics.get(uri), 60, "published diagnostics")
    [diagnostic] = client.diagnostics[uri]
    assert diagnostic.range.start.line == 1 and diagnostic.range.start.character == 13
    assert "y" in diagnostic.message and "was not declared" in diagnostic.message
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.source.startswith("ellora (")
