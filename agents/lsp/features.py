"""LSP feature handlers: lifecycle, sync, code actions, commands, hover, diagnostics, config.

Every handler answers malformed or unsupported input with an LSP error or an empty result
and leaves the server serving; a task's failure never escapes as a crash.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from ellora.agents.lsp.actions import (
    ACTION_PREFIX,
    EXPLAIN_KIND,
    RUN_COMMAND,
    list_actions,
    parse_run_arguments,
)
from ellora.agents.lsp.documents import region_for
from ellora.agents.lsp.runs import RunError, build_job, capture_input, check_supported, execute
from lsprotocol import types
from pygls.exceptions import JsonRpcException

log = logging.getLogger(__name__)


def _error(ls: Any, error: RunError, show: bool = True) -> JsonRpcException:
    """Tell the user (one line) and build the JSON-RPC error to answer with."""
    if show and error.code != -32800:
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Error, message=f"Ellora: {error.message}"
            )
        )
    return JsonRpcException(message=error.message, code=error.code)


def initialize(ls: Any, params: types.InitializeParams) -> None:
    from ellora.agents.cli.errors import UserError

    try:
        ls.configure(init=params.initialization_options or {})
    except UserError as error:
        ls.pending_message = f"Ellora: {error} (using the settings without these options)"


async def initialized(ls: Any, params: types.InitializedParams) -> None:
    if ls.pending_message:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=ls.pending_message)
        )
        ls.pending_message = None
    ls.hover_source()  # start indexing now so the first hover is quick


async def did_change_configuration(ls: Any, params: types.DidChangeConfigurationParams) -> None:
    from ellora.agents.cli.errors import UserError

    settings = params.settings
    workspace = ls.client_capabilities.workspace
    if not settings and workspace is not None and workspace.configuration:
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="ellora")])
        )
        settings = (answer or [None])[0]
    try:
        ls.configure(config=settings or {})
    except UserError as error:
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Error, message=f"Ellora: {error} (settings unchanged)"
            )
        )


def did_open(ls: Any, params: types.DidOpenTextDocumentParams) -> None:
    ls.syntax.open(params.text_document.uri, params.text_document.language_id)


def did_close(ls: Any, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.syntax.close(uri)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def code_action(ls: Any, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    """The agent actions for the selection or the loop under the cursor; no model, no build."""
    uri = params.text_document.uri
    syntax = ls.syntax.get(uri)
    if syntax is None:
        return None
    document = ls.workspace.get_text_document(uri)
    region = region_for(syntax, document.source, params.range, document.position_codec)
    if region is None:
        return None
    return list_actions(uri, document.version, region, params.context.only)


async def _run(ls: Any, raw: Any, token: Any) -> tuple[Any, Any, Any]:
    """Validate, run and return ``(run input, outcome, request id)``; raises ``RunError``."""
    from ellora.agents.lsp.runs import TaskProgress

    request_id = ls.protocol.msg_id
    try:
        request = parse_run_arguments(raw)
    except (ValueError, TypeError) as error:
        raise RunError(str(error), -32602) from None
    run = capture_input(ls, request)
    check_supported(run)
    job = build_job(run, ls.overrides())
    progress = await TaskProgress.open(ls, token, f"Ellora: {request.action.title}")
    return run, await execute(ls, run, job, progress, request_id), request_id


async def run_command(ls: Any, params: types.ExecuteCommandParams) -> dict:
    """``ellora.runAction``: run the agent; the edit goes out as ``workspace/applyEdit``."""
    from ellora.agents.lsp.results import finish_agent, finish_explain

    try:
        arguments = params.arguments or []
        run, outcome, _ = await _run(
            ls, arguments[0] if len(arguments) == 1 else arguments, params.work_done_token
        )
        if outcome.kind == "explain":
            return await finish_explain(ls, run, outcome)
        edit, result = await finish_agent(ls, run, outcome)
    except RunError as error:
        raise _error(ls, error) from None
    if edit is not None:
        answer = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=f"Ellora: {run.request.action.title}")
        )
        result["applied"] = bool(answer and answer.applied)
        if answer is not None and not answer.applied:
            result["edit"] = f"refused by the editor: {answer.failure_reason or 'no reason'}"
    else:
        result["applied"] = False
    return result


async def resolve_code_action(ls: Any, action: types.CodeAction) -> types.CodeAction:
    """Run the agent and return the action with its edit (the client applies it)."""
    from ellora.agents.lsp.results import finish_agent, finish_explain

    try:
        run, outcome, _ = await _run(ls, action.data, None)
        if outcome.kind == "explain":
            await finish_explain(ls, run, outcome)
            edit = None
        else:
            edit, _ = await finish_agent(ls, run, outcome)
    except RunError as error:
        raise _error(ls, error) from None
    return types.CodeAction(title=action.title, kind=action.kind, edit=edit, data=action.data)


def cancel_progress(ls: Any, params: types.WorkDoneProgressCancelParams) -> None:
    if ls.tasks.cancel_token(params.token):
        log.info("progress %s cancelled: its task is stopping", params.token)


async def hover(ls: Any, params: types.HoverParams) -> types.Hover | None:
    """Signature, documentation and declaration of the Kokkos/MPI/OpenMP name under the cursor."""
    from ellora.agents.lsp.hover import hover_markdown, word_at

    uri = params.text_document.uri
    if ls.syntax.get(uri) is None:
        return None
    document = ls.workspace.get_text_document(uri)
    lines = document.lines
    if params.position.line >= len(lines):
        return None
    line = lines[params.position.line].rstrip("\r\n")
    column = document.position_codec.position_from_client_units(
        [line], types.Position(0, params.position.character)
    ).character
    found = word_at(line, column)
    if found is None:
        return None
    name, qualifier, start, end = found
    try:
        entries = (await ls.hover_source()).lookup(name, qualifier)
    except Exception:  # an unreadable header or index: no hover now, rebuilt next time
        log.exception("hover source failed; it is rebuilt on the next hover")
        ls.reset_hover_source()
        return None
    if not entries:
        return None
    codec, row = document.position_codec, params.position.line
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=hover_markdown(entries)),
        range=types.Range(
            types.Position(row, codec.client_num_units(line[:start])),
            types.Position(row, codec.client_num_units(line[:end])),
        ),
    )


async def did_save(ls: Any, params: types.DidSaveTextDocumentParams) -> None:
    """Opt-in: build the saved file in the sandbox and publish its compiler diagnostics."""
    from ellora.agents.lsp.build_diagnostics import to_lsp
    from ellora.tools.toolchain import ToolchainMissing
    from pygls.uris import to_fs_path

    uri = params.text_document.uri
    syntax = ls.syntax.get(uri)
    if not ls.settings.lsp.diagnostics_on_save or syntax is None or not uri.startswith("file:"):
        return
    if syntax.language == "fortran":
        ls.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Info, message="Ellora: no build recipe for Fortran yet"
            )
        )
        return
    document = ls.workspace.get_text_document(uri)
    text, version = params.text or document.source, document.version
    try:
        found, compiler = await asyncio.to_thread(
            ls.diagnostics_builder().build, Path(to_fs_path(uri)), text
        )
    except ToolchainMissing as error:
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning, message=f"Ellora: no diagnostics: {error}"
            )
        )
        return
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=to_lsp(found, text.splitlines(), compiler)
        )
    )


def shutdown(ls: Any, params: Any) -> None:
    ls.tasks.cancel_all()


def register(server: Any) -> None:
    """Attach every handler and command to ``server``."""
    kinds = [
        f"{ACTION_PREFIX}.{name}" for name in ("kokkos", "openmp", "mpi", "cuda", "optimize")
    ] + [EXPLAIN_KIND]
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.SHUTDOWN)(shutdown)
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=True))(did_save)
    server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=kinds, resolve_provider=True),
    )(code_action)
    server.feature(types.CODE_ACTION_RESOLVE)(resolve_code_action)
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)
    server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)(cancel_progress)

    async def run_action(params: types.ExecuteCommandParams) -> dict:
        return await run_command(server, params)

    server.command(RUN_COMMAND)(run_action)
    server.command_handlers[RUN_COMMAND] = run_action
