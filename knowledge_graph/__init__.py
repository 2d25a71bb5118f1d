"""Code knowledge graph and retrieval over E4S sources (tree-sitter, networkx, chromadb).

parse (``parse.py``, queries in ``queries/*.scm``) -> graph (``graph.py``) -> rank
(``rank.py``) -> retrieve and render (``retrieve.py``, ``render.py``); ``indexer.py`` keeps the
fact store, graph and vector index of one index directory up to date.
"""

from __future__ import annotations

import sys
from typing import Any


def open_retriever(settings: Any) -> Any:
    """A :class:`~ellora.knowledge_graph.retrieve.Retriever` over the configured index, or None
    when no index exists there (then nothing heavy is imported)."""
    from ellora.knowledge_graph.config import index_dir

    directory = index_dir(settings.index, settings.state_dir)
    if not (directory / "index.sqlite").is_file():
        return None
    from ellora.knowledge_graph.retrieve import Retriever

    try:
        return Retriever.open(directory, settings.index)
    except (OSError, ValueError) as error:
        print(f"[ellora] warning: code index at {directory} not used: {error}", file=sys.stderr)
        return None
