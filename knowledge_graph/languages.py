"""Source languages: file extensions, tree-sitter grammars (PyPI wheels) and tag queries.

Grammars and queries are loaded on first use; ``queries/<language>.scm`` holds the patterns.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module, resources
from pathlib import Path
from typing import Any

# .h is parsed as C++: most E4S headers are C++ and C headers parse as C++ almost always.
EXTENSIONS: dict[str, str] = {
    ".c": "c",
    ".h": "cpp", ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp", ".h++": "cpp", ".inl": "cpp",
    ".ipp": "cpp", ".tpp": "cpp", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp",
    ".cu": "cuda", ".cuh": "cuda",
    ".f": "fortran", ".for": "fortran", ".f77": "fortran", ".f90": "fortran",
    ".f95": "fortran", ".f03": "fortran", ".f08": "fortran", ".fpp": "fortran",
}

GRAMMAR_MODULES = {"c": "tree_sitter_c", "cpp": "tree_sitter_cpp", "cuda": "tree_sitter_cuda",
                   "fortran": "tree_sitter_fortran"}


def language_of(path: str | Path) -> str | None:
    """The language of a file by its extension (``.F90`` counts as ``.f90``), or None."""
    return EXTENSIONS.get(Path(path).suffix.lower())


@cache
def grammar(language: str) -> Any:
    """The ``tree_sitter.Language`` for a language name."""
    from tree_sitter import Language

    return Language(import_module(GRAMMAR_MODULES[language]).language())


@cache
def query(language: str) -> Any:
    """The compiled tag query (``queries/<language>.scm``) for a language."""
    from tree_sitter import Query

    text = resources.files("ellora.knowledge_graph").joinpath(f"queries/{language}.scm")
    return Query(grammar(language), text.read_text())


def new_parser(language: str) -> Any:
    """A fresh ``tree_sitter.Parser`` for a language (parsers are cheap; not thread-safe)."""
    from tree_sitter import Parser

    return Parser(grammar(language))
