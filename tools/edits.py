"""Edits a model proposes, applied strictly: SEARCH/REPLACE blocks matched exactly, then
ignoring indentation, then fuzzily (one clearly best match); anything else fails loudly with
the closest text, so an edit never applies silently somewhere wrong."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

BLOCK = re.compile(r"<<<<<<< SEARCH\n(.*?)\n=======\n(.*?)\n>>>>>>> REPLACE", re.DOTALL)
FUZZY_THRESHOLD = 0.9


class EditFailed(ValueError):
    """The edit does not apply; the message says why and shows the closest text."""


@dataclass
class SearchReplace:
    search: str
    replace: str


def parse_search_replace(reply: str) -> list[SearchReplace]:
    """All SEARCH/REPLACE blocks of a reply, in order."""
    return [SearchReplace(m.group(1), m.group(2)) for m in BLOCK.finditer(reply)]


def _strip_lines(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines]


def _locate(lines: list[str], wanted: list[str]) -> tuple[int, int, str]:
    """(start, end, how) of the one place ``wanted`` matches; raises EditFailed."""
    size = len(wanted)
    windows = [(i, lines[i : i + size]) for i in range(len(lines) - size + 1)]
    exact = [i for i, window in windows if window == wanted]
    if len(exact) == 1:
        return exact[0], exact[0] + size, "exact"
    loose = [i for i, window in windows if _strip_lines(window) == _strip_lines(wanted)]
    if len(loose) == 1:
        return loose[0], loose[0] + size, "ignoring indentation"
    if len(exact) > 1 or len(loose) > 1:
        raise EditFailed(
            f"the SEARCH text matches {max(len(exact), len(loose))} places; "
            "include more lines to make it unique"
        )
    scored = sorted(
        (
            (
                difflib.SequenceMatcher(
                    None, "\n".join(_strip_lines(window)), "\n".join(_strip_lines(wanted))
                ).ratio(),
                i,
            )
            for i, window in windows
        ),
        reverse=True,
    )
    if not scored:
        raise EditFailed("the SEARCH text is longer than the file")
    best_score, best = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if best_score >= FUZZY_THRESHOLD and best_score - runner_up > 0.02:
        return best, best + size, f"fuzzy ({best_score:.0%} similar)"
    closest = "\n".join(lines[best : best + size])
    raise EditFailed(
        f"the SEARCH text is not in the file (closest, {best_score:.0%} similar):\n{closest}"
    )


def apply_search_replace(source: str, edits: list[SearchReplace]) -> tuple[str, list[str]]:
    """Apply edits in order; returns the new text and how each edit matched."""
    lines = source.split("\n")
    how = []
    for edit in edits:
        start, end, matched = _locate(lines, edit.search.split("\n"))
        lines[start:end] = edit.replace.split("\n")
        how.append(matched)
    return "\n".join(lines), how
