"""Whether selected lines hold any code to change, decided before the graph runs.

A selection of only comments, blank lines, preprocessor directives and braces gives the agent
nothing to work on: the model would be asked (for minutes) to change nothing. Comments are stripped the way each
language writes them (C/C++/CUDA ``//`` and ``/* */`` around strings, character literals,
digit separators and raw strings; Fortran ``!`` outside strings, and ``C``/``*`` in column 1
of fixed-form files), over the whole file so that a selection starting inside a block comment
is read right. Lines with any statement stay valid even without a loop.
"""

from __future__ import annotations

import re
from pathlib import Path

from ellora.agents.cli.errors import UserError

FORTRAN_FREE = (".f90", ".f95", ".f03", ".f08")
FORTRAN_FIXED = (".f", ".for", ".ftn", ".f77")
_CODE = re.compile(r"[A-Za-z0-9_]")
_STRING_PREFIX = re.compile(r"(?:u8|[uUL])?R?$")


def dialect_of(path: Path | str, language: str | None = None) -> str:
    """"c" (C, C++, CUDA), "fortran" (free form) or "fortran-fixed", from the file name,
    else from an editor's language id."""
    suffix = Path(path).suffix.lower()
    if suffix in FORTRAN_FIXED:
        return "fortran-fixed"
    if suffix in FORTRAN_FREE or (language or "").lower().startswith("fortran"):
        return "fortran"
    return "c"


def strip_comments(text: str, dialect: str = "c") -> str:
    """``text`` with every comment character replaced by a space (line breaks kept)."""
    if dialect.startswith("fortran"):
        fixed = dialect == "fortran-fixed"
        return "".join(_fortran_line(line, fixed) for line in text.splitlines(keepends=True))
    return _strip_c(text)


def _fortran_line(line: str, fixed: bool) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    if fixed and body[:1] in ("c", "C", "*", "!"):
        return " " * len(body) + ending
    quote = None
    for index, char in enumerate(body):
        if quote:
            quote = None if char == quote else quote  # '' inside a string: closes, reopens
        elif char in "'\"":
            quote = char
        elif char == "!":
            return body[:index] + " " * (len(body) - index) + ending
    return line


def _strip_c(text: str) -> str:
    out, i, n = list(text), 0, len(text)
    while i < n:
        char = text[i]
        if text.startswith("//", i):
            i = _blank(out, i, _line_comment_end(text, i))
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = _blank(out, i, n if end < 0 else end + 2)
        elif char.isdigit():
            i = _number_end(text, i)
        elif char.isalpha() or char == "_":
            start = i
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            word = text[start:i]
            if i < n and text[i] in "\"'" and _STRING_PREFIX.fullmatch(word):
                i = _literal_end(text, i, raw=word.endswith("R") and text[i] == '"')
        elif char in "\"'":
            i = _literal_end(text, i, raw=False)
        else:
            i += 1
    return "".join(out)


def _blank(out: list[str], start: int, end: int) -> int:
    for index in range(start, end):
        if out[index] not in "\r\n":
            out[index] = " "
    return end


def _line_comment_end(text: str, start: int) -> int:
    """The end of a ``//`` comment: the line break not escaped by a backslash."""
    index = start
    while True:
        end = text.find("\n", index)
        if end < 0:
            return len(text)
        if text[index:end].rstrip("\r").endswith("\\"):
            index = end + 1
            continue
        return end


def _number_end(text: str, start: int) -> int:
    """The end of a pp-number (``1'000'000``, ``0x1p-3``: quotes are digit separators)."""
    index = start + 1
    while index < len(text):
        char = text[index]
        exponent_sign = char in "+-" and text[index - 1] in "eEpP"
        if not (char.isalnum() or char in "_.'" or exponent_sign):
            break
        index += 1
    return index


def _literal_end(text: str, start: int, raw: bool) -> int:
    """The index after the string or character literal opening at ``start``."""
    if raw:
        open_paren = text.find("(", start)
        if open_paren < 0:
            return start + 1
        closing = ")" + text[start + 1:open_paren] + '"'
        end = text.find(closing, open_paren)
        return len(text) if end < 0 else end + len(closing)
    quote, index = text[start], start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
        elif text[index] == quote or text[index] == "\n":
            return index + 1
        else:
            index += 1
    return index


def has_code(text: str, first: int, last: int, dialect: str = "c") -> bool:
    """Whether lines ``first``-``last`` (1-based, inclusive) hold anything but comments,
    blank lines, preprocessor directives (``#include``, ``#pragma``, ...) and punctuation."""
    lines = strip_comments(text, dialect).splitlines()
    directive = False
    for number, line in enumerate(lines[:last], start=1):
        continued = directive and number > 1 and lines[number - 2].rstrip().endswith("\\")
        directive = continued or line.lstrip().startswith("#")
        if number >= first and not directive and _CODE.search(line):
            return True
    return False


def require_code(text: str, first: int, last: int, path: Path | str,
                 language: str | None = None, fix: str = "choose them with --lines A-B") -> None:
    """Raise a one-line :class:`UserError` when the selected lines hold no code to change."""
    if not has_code(text, first, last, dialect_of(path, language)):
        raise UserError(
            f"lines {first}-{last} of {path} hold no code to change (only comments, blank "
            f"lines, directives or braces): select the statements or loop to work on; {fix}")
