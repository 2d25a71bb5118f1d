"""Parse many files, in worker processes when there are enough of them.

Workers are forked while the parent has not loaded torch (its thread pools do not survive a
fork), else spawned; each keeps one parser per language; results come back in input order.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from ellora.knowledge_graph.languages import new_parser
from ellora.knowledge_graph.parse import FileFacts, Unparseable, parse_file

MIN_PARALLEL = 64  # fewer files than this parse faster in-process than a pool starts
_parsers: dict[str, Any] = {}


def parse_job(item: tuple[str, bytes, str]) -> FileFacts | str:
    """Facts of one (path, bytes, language), or the reason it was skipped."""
    path, data, language = item
    parser = _parsers.get(language) or _parsers.setdefault(language, new_parser(language))
    try:
        return parse_file(path, data, language, parser)
    except Unparseable as error:
        return error.reason


def open_pool(workers: int) -> Executor:
    method = "spawn" if "torch" in sys.modules else "fork"
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context(method))


def parse_many(items: list[tuple[str, bytes, str]], pool: Executor | None
               ) -> Iterator[FileFacts | str]:
    """Results of :func:`parse_job` for every item, in order."""
    if pool is None or len(items) < MIN_PARALLEL:
        return map(parse_job, items)
    return pool.map(parse_job, items, chunksize=4)
