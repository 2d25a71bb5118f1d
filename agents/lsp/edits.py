"""The agent's candidate as one LSP text edit against the version the task started from."""

from __future__ import annotations

from typing import Any


def changed_lines(original: str, candidate: str) -> tuple[int, int, str]:
    """``(first, end, replacement)``: replace original lines ``[first, end)`` (0-based) with
    ``replacement`` to obtain ``candidate``; the common head and tail are left alone."""
    old = original.splitlines(keepends=True)
    new = candidate.splitlines(keepends=True)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return head, len(old) - tail, "".join(new[head : len(new) - tail])


def _position(lines: list[str], index: int, codec: Any):
    """Start of 0-based line ``index``; past the last line: the end of the text."""
    from lsprotocol.types import Position

    if index < len(lines):
        return Position(index, 0)
    if not lines:
        return Position(0, 0)
    last = lines[-1]
    if last.endswith("\n"):
        return Position(len(lines), 0)
    return Position(len(lines) - 1, codec.client_num_units(last))


def text_edit(original: str, candidate: str, codec: Any):
    """One ``TextEdit`` turning ``original`` into ``candidate``."""
    from lsprotocol.types import Range, TextEdit

    first, end, replacement = changed_lines(original, candidate)
    lines = original.splitlines(keepends=True)
    return TextEdit(
        range=Range(_position(lines, first, codec), _position(lines, end, codec)),
        new_text=replacement,
    )


def workspace_edit(
    uri: str, version: int | None, original: str, candidate: str, codec: Any, versioned: bool = True
):
    """A ``WorkspaceEdit`` for the document at ``version``: a versioned ``TextDocumentEdit``
    when the client supports ``documentChanges`` (it then refuses a document that moved on),
    else a plain ``changes`` map."""
    from lsprotocol import types

    edit = text_edit(original, candidate, codec)
    if versioned:
        document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        return types.WorkspaceEdit(
            document_changes=[types.TextDocumentEdit(text_document=document, edits=[edit])]
        )
    return types.WorkspaceEdit(changes={uri: [edit]})
