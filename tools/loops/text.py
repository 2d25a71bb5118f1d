"""Source-text edits that do not depend on a parse: includes and helpers at the top."""

from __future__ import annotations

import re

_INCLUDE_LINE = re.compile(r"^#\s*include[^\n]*\n", re.MULTILINE)


def after_includes(source: str, code: str) -> str:
    """The source with ``code`` inserted after its last ``#include`` line (at the top
    without one)."""
    includes = list(_INCLUDE_LINE.finditer(source))
    position = includes[-1].end() if includes else 0
    return source[:position] + code + source[position:]


def ensure_include(source: str, header: str) -> str:
    """The source with ``#include <header>`` after its includes, unless it has it."""
    if re.search(rf"#\s*include\s*[<\"]{re.escape(header)}[>\"]", source):
        return source
    return after_includes(source, f"#include <{header}>\n")
