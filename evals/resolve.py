"""Resolve a suite argument: ``builtin``, a folder in our format, ``pareval:PATH`` (a ParEval
checkout) or ``chatkokkos:PATH`` (its test YAML)."""

from __future__ import annotations

from pathlib import Path

from ellora.agents.cli.errors import UserError
from ellora.evals.suite import BUILTIN_SUITE, load_suite


def resolve_suite(text: str) -> tuple[str, list, list | None]:
    """(suite name, problems, review items or None); UserError for a bad suite."""
    kind, sep, rest = text.partition(":")
    try:
        if text == "builtin":
            return "builtin", load_suite(BUILTIN_SUITE), None
        if sep and kind == "pareval":
            from ellora.evals.pareval import load_pareval

            return "pareval", load_pareval(Path(rest)), None
        if (sep and kind == "chatkokkos") or text.endswith((".yaml", ".yml")):
            from ellora.evals.chatkokkos import load_review_items

            path = Path(rest if sep and kind == "chatkokkos" else text)
            return "chatkokkos", [], load_review_items(path)
        folder = Path(text)
        if (folder / "prompts" / "generation-prompts.json").is_file():
            from ellora.evals.pareval import load_pareval

            return "pareval", load_pareval(folder), None
        return folder.resolve().name, load_suite(folder), None
    except ValueError as error:
        raise UserError(f"bad suite {text!r}: {error}") from None
