"""The pygls language server: capabilities, document sync, cancellation, configuration.

Feature handlers live in :mod:`ellora.agents.lsp.features`; this module holds the server
state and the protocol hooks pygls has no public seam for: tree edits *before* pygls
applies an incremental change (so listing stays incremental), ``$/cancelRequest`` for
``workspace/executeCommand`` (pygls cancels only its own wrapper future, not the command
handler, so the hook stops the task's worker too), an ``Invalid params`` answer to a request
whose params do not fit its method (pygls only logs it, and the client waits forever), and
the stdio reader of :mod:`ellora.agents.lsp.transport` (one badly framed message costs only
itself).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ellora.agents.lsp.documents import SyntaxCache
from ellora.agents.lsp.runs import TaskBook
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

log = logging.getLogger(__name__)
SERVER_NAME = "ellora"
INVALID_PARAMS = -32602


@dataclass(frozen=True)
class UnreadableRequest:
    """A request whose params do not fit its method, to be answered ``Invalid params``."""

    id: Any
    method: str
    reason: str


class ElloraProtocol(LanguageServerProtocol):
    """pygls' protocol with incremental tree edits, task-aware cancellation and an answer to
    every request, even one it cannot read."""

    _server: ElloraServer

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if not (isinstance(data.get("method"), str) and isinstance(data.get("id"), int | str)):
                raise  # a notification or a response: nobody waits for an answer
            return UnreadableRequest(data["id"], data["method"], _why_unreadable(error))

    def handle_message(self, message: Any) -> None:
        if isinstance(message, UnreadableRequest):
            log.warning("request %s (%s) has invalid params: %s", message.id, message.method,
                        message.reason)
            error = types.ResponseError(
                INVALID_PARAMS, f"Invalid params for {message.method}: {message.reason}")
            self._send_response(message.id, error=error)
            return
        super().handle_message(message)

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        super()._handle_cancel_notification(msg_id)
        if self._server.tasks.cancel_request(msg_id):
            log.info("request %s cancelled: its task is stopping", msg_id)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        uri = params.text_document.uri
        syntax = self._server.syntax.get(uri)
        for change in params.content_changes:
            if syntax is not None:
                self._edit_tree(syntax, uri, change)
            self.workspace.update_text_document(params.text_document, change)
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    def _edit_tree(self, syntax: Any, uri: str, change: Any) -> None:
        try:
            document = self.workspace.get_text_document(uri)
            syntax.edit(document.source, change, document.position_codec)
        except Exception:  # a bad range must not break document sync: reparse next time
            log.exception("tree edit failed for %s; the next request reparses", uri)
            syntax.tree, syntax.stale = None, True

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams):
        handler = self._server.command_handlers.get(params.command)
        if handler is None:
            return (yield from super().lsp_workspace__execute_command(params))
        return (yield handler, (params,), None)


class ElloraServer(LanguageServer):
    """Server state: settings (defaults < ellora.toml/env < --set < editor options), open
    documents' trees, running tasks, the hover source and the diagnostics builder."""

    def __init__(self, base_overrides: dict | None = None):
        from ellora.agents.settings import load_settings

        super().__init__(
            SERVER_NAME,
            _version(),
            protocol_cls=ElloraProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.base_overrides = base_overrides or {}
        self.init_overrides: dict = {}
        self.config_overrides: dict = {}
        self.settings = load_settings(self.base_overrides)
        self.syntax = SyntaxCache()
        self.tasks = TaskBook()
        self.command_handlers: dict[str, Any] = {}
        self.pending_message: str | None = None
        self._hover: asyncio.Future | None = None
        self._diagnostics: Any = None

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """Serve LSP over stdio with the resynchronizing reader."""
        from ellora.agents.lsp.transport import serve_stdio

        serve_stdio(self, stdin, stdout)

    def overrides(self) -> dict:
        """Every override layer merged, for this process and for task workers."""
        from ellora.agents.lsp.config import deep_merge

        return deep_merge(
            deep_merge(self.base_overrides, self.init_overrides), self.config_overrides
        )

    def configure(self, init: Any = None, config: Any = None) -> None:
        """Apply editor options; raises ``UserError`` and keeps the old settings when bad."""
        from ellora.agents.lsp.config import deep_merge, options_to_overrides
        from ellora.agents.settings import load_settings

        init_overrides = options_to_overrides(init) if init is not None else self.init_overrides
        config_overrides = (
            options_to_overrides(config) if config is not None else self.config_overrides
        )
        merged = deep_merge(deep_merge(self.base_overrides, init_overrides), config_overrides)
        settings = load_settings(merged)
        old_sources = (self.settings.lsp.hover_headers, self.settings.index)
        self.settings = settings
        self.init_overrides, self.config_overrides = init_overrides, config_overrides
        self._diagnostics = None
        if (settings.lsp.hover_headers, settings.index) != old_sources:
            self._hover = None

    def diagnostics_builder(self) -> Any:
        from ellora.agents.lsp.build_diagnostics import DiagnosticsBuilder

        if self._diagnostics is None:
            self._diagnostics = DiagnosticsBuilder(self.settings)
        return self._diagnostics

    def reset_hover_source(self) -> None:
        self._hover = None

    def hover_source(self) -> asyncio.Future:
        """The hover source (knowledge graph, else installed headers), opened once in a
        background thread; the header index is cached on disk."""
        if self._hover is None:
            from ellora.agents.lsp.hover import create_hover_source

            cache = Path(_cache_home()) / "ellora" / "lsp"
            self._hover = asyncio.get_running_loop().run_in_executor(
                None, create_hover_source, self.settings, cache
            )
        return self._hover


def _why_unreadable(error: Exception) -> str:
    """What did not fit, in one line (cattrs' own account of the params when it has one)."""
    from cattrs import transform_error
    from cattrs.errors import ClassValidationError

    cause = error.__cause__
    if isinstance(cause, ClassValidationError):
        return "; ".join(transform_error(cause))[:500]
    return " ".join(str(cause or error).split())[:500] or type(error).__name__


def _cache_home() -> str:
    import os

    return os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ellora")
    except PackageNotFoundError:
        return "0"


def create_server(base_overrides: dict | None = None) -> ElloraServer:
    """A server with every feature registered (see :mod:`ellora.agents.lsp.features`)."""
    from ellora.agents.lsp.features import register

    server = ElloraServer(base_overrides)
    register(server)
    return server
