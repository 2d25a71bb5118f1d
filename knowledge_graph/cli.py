"""``ellora index``: build, query and inspect the code index.

    ellora index add kokkos hypre           # manifest names: clone, or the installed headers
    ellora index add ~/src/mylib --name mylib
    ellora index query "how to do a parallel reduction into a View"
    ellora index stats
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ellora.agents.cli.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="index a library of the E4S manifest or a directory")
    add.add_argument("targets", nargs="+", metavar="TARGET",
                     help="manifest names (kokkos, hypre, ...) or directories")
    add.add_argument("--source", default="auto",
                     help="auto | clone | system | DIR: where to take the library's files from")
    add.add_argument("--name", help="repository name in the index (default: the library's)")
    add.add_argument("--only", action="append", default=[], metavar="GLOB",
                     help="index only matching files, e.g. 'Kokkos_*.hpp' (repeatable)")
    add.add_argument("--graph-only", action="store_true",
                     help="build the knowledge graph without embeddings (fast)")
    query = sub.add_parser("query", help="retrieve code for a question, with sources")
    query.add_argument("text", help="the question, e.g. 'parallel reduction into a View'")
    query.add_argument("-k", type=int, default=5, help="number of results (default 5)")
    query.add_argument("--repository", action="append", default=[], help="only this library")
    query.add_argument("--language", action="append", default=[],
                       help="only this language: c, cpp, cuda, fortran")
    query.add_argument("--code", type=Path, help="a file of your code: its identifiers seed "
                                                 "the graph ranking")
    query.add_argument("--mode", default="hybrid", choices=["hybrid", "vector", "graph"])
    sub.add_parser("stats", help="nodes, edges, chunks and lines per library")
    remove = sub.add_parser("remove", help="drop a library from the index")
    remove.add_argument("name")
    sub.add_parser("libraries", help="the E4S manifest: libraries, sources, licences")
    for child in sub.choices.values():
        child.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                           help="override a setting, e.g. index.path=/data/index")
        child.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    """Entry from ``ellora index``."""
    from ellora.agents.settings import load_settings, parse_overrides
    from ellora.knowledge_graph.config import index_dir

    settings = load_settings(parse_overrides(args.set))
    directory = index_dir(settings.index, settings.state_dir)
    action = {"add": _add, "query": _query, "stats": _stats, "remove": _remove,
              "libraries": _libraries}[args.index_command]
    return action(args, settings.index, directory)


def _add(args, index_settings, directory: Path) -> int:
    from ellora.knowledge_graph.embed import EmbeddingModelMissing
    from ellora.knowledge_graph.render import render_summary
    from ellora.knowledge_graph.sources import SourceNotFound, resolve_sources

    if args.graph_only:
        index_settings = index_settings.model_copy(update={"vectors": False})
    if args.name and len(args.targets) > 1:
        raise UserError("--name names one target: give a single TARGET with it")
    all_sources = []
    for target in args.targets:
        try:
            sources = resolve_sources(target, index_settings, directory, args.source,
                                      args.name).only(args.only)
        except SourceNotFound as error:
            raise UserError(str(error)) from None
        if not sources.files:
            raise UserError(f"no C, C++, CUDA or Fortran files in {sources.root} "
                            f"({sources.origin}): check the path or --only")
        print(f"[index] {sources.repository}: {len(sources.files)} files from "
              f"{sources.origin}", file=sys.stderr, flush=True)
        all_sources.append(sources)
    index = _open_index(directory, index_settings)
    try:
        summaries = index.add_many(all_sources, progress=lambda line: print(
            f"[index] {line}", file=sys.stderr, flush=True))
    except EmbeddingModelMissing as error:
        raise UserError(str(error)) from None
    finally:
        index.close()
    found = [s.to_dict() for s in summaries]
    print(json.dumps(found, indent=2) if args.json
          else "\n".join(render_summary(s) for s in found))
    return 0


def _query(args, index_settings, directory: Path) -> int:
    from ellora.knowledge_graph.embed import EmbeddingModelMissing
    from ellora.knowledge_graph.indexer import Index
    from ellora.knowledge_graph.render import render_snippets
    from ellora.knowledge_graph.retrieve import Retriever

    if not Index.exists(directory):
        raise UserError(f"no index at {directory}: build one first, e.g. "
                        "'ellora index add kokkos'")
    if args.k < 1:
        raise UserError(f"-k {args.k}: ask for at least one result")
    code = None
    if args.code is not None:
        try:
            code = args.code.read_text(errors="replace")
        except OSError as error:
            raise UserError(f"cannot read --code {args.code}: {error.strerror}") from None
    filters = {key: values if len(values) > 1 else values[0]
               for key, values in (("repository", args.repository),
                                   ("language", args.language)) if values}
    retriever = Retriever.open(directory, index_settings)
    try:
        snippets = retriever.retrieve(args.text, k=args.k, filters=filters or None, code=code,
                                      mode=args.mode)
    except EmbeddingModelMissing as error:
        raise UserError(str(error)) from None
    finally:
        retriever.close()
    found = [s.to_dict() for s in snippets]
    print(json.dumps(found, indent=2) if args.json else render_snippets(args.text, found))
    return 0


def _stats(args, index_settings, directory: Path) -> int:
    from ellora.knowledge_graph.indexer import Index, directory_size
    from ellora.knowledge_graph.render import render_stats

    if not Index.exists(directory):
        raise UserError(f"no index at {directory}: build one first, e.g. "
                        "'ellora index add kokkos'")
    index = _open_index(directory, index_settings)
    try:
        stats = index.stats()
    finally:
        index.close()
    size = directory_size(directory)
    if args.json:
        print(json.dumps({"index": str(directory), "disk_bytes": size, "repositories": stats},
                         indent=2))
    else:
        print(render_stats(stats, str(directory), size))
    return 0


def _remove(args, index_settings, directory: Path) -> int:
    from ellora.knowledge_graph.indexer import Index

    if not Index.exists(directory):
        raise UserError(f"no index at {directory}: nothing to remove")
    index = _open_index(directory, index_settings)
    try:
        removed = index.remove(args.name)
    finally:
        index.close()
    if not removed:
        raise UserError(f"{args.name!r} is not in the index at {directory}: see "
                        "'ellora index stats'")
    print(f"Removed {args.name} from {directory}")
    return 0


def _libraries(args, index_settings, directory: Path) -> int:
    from ellora.knowledge_graph.manifest import load_manifest
    from ellora.knowledge_graph.sources import debian_files

    rows = []
    for library in load_manifest().values():
        installed = [p for p in library.debian if debian_files(p) is not None]
        rows.append({**library.to_dict(), "installed": installed})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        system = ", ".join(row["installed"]) or ("not installed" if row["debian"]
                                                 else "not packaged by Debian")
        print(f"{row['name']:<15} {row['license']:<34} {row['repository']}\n"
              f"{'':<15} system: {system}")
    return 0


def _open_index(directory: Path, index_settings):
    from ellora.knowledge_graph.indexer import Index

    try:
        return Index(directory, index_settings)
    except ValueError as error:
        raise UserError(f"{error}: remove {directory} and index again") from None
