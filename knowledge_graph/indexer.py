"""Build and update an index directory: fact store, knowledge graph and vector index.

Incremental: a file whose size and mtime are unchanged is not read; one whose content hash is
unchanged is not parsed; deleted files leave the store, the graph and the vector index.
Skipped files (huge, binary, non-UTF-8, unparseable) are counted, never fatal.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ellora.knowledge_graph.chunks import chunk_texts, plan_chunks
from ellora.knowledge_graph.config import IndexSettings
from ellora.knowledge_graph.graph import build_graph, load_graph, save_graph
from ellora.knowledge_graph.languages import language_of
from ellora.knowledge_graph.parse import FileFacts, Unparseable, check_text, content_digest
from ellora.knowledge_graph.sources import SourceSet
from ellora.knowledge_graph.store import FactStore
from ellora.knowledge_graph.vectors import ChunkRecord, VectorStore, open_client
from ellora.knowledge_graph.workers import MIN_PARALLEL, open_pool, parse_many

FILE_BATCH = 200
PARSE_WINDOW = 512
STORE_NAME = "index.sqlite"
GRAPH_NAME = "graph.pickle"


@dataclass
class IndexSummary:
    """What one ``add`` did, with seconds per stage."""

    repository: str
    origin: str
    files_seen: int = 0
    parsed: int = 0
    unchanged: int = 0
    removed: int = 0
    lines_parsed: int = 0
    chunks_added: int = 0
    skipped: Counter = field(default_factory=Counter)
    skipped_paths: list[str] = field(default_factory=list)
    graph_stale: bool = False
    seconds: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"repository": self.repository, "origin": self.origin,
                "files_seen": self.files_seen, "parsed": self.parsed,
                "unchanged": self.unchanged, "removed": self.removed,
                "lines_parsed": self.lines_parsed, "chunks_added": self.chunks_added,
                "skipped": dict(self.skipped),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


@dataclass
class _Pending:
    rel: str
    data: bytes
    text: str
    language: str
    mtime_ns: int
    size: int


class _Pool:
    """A parse worker pool, started on first use and shut down with the stack."""

    def __init__(self, stack: ExitStack, workers: int):
        self.stack, self.workers, self.pool = stack, workers, None

    def get(self):
        if self.workers <= 1:
            return None
        if self.pool is None:
            self.pool = self.stack.enter_context(open_pool(self.workers))
        return self.pool


@dataclass
class _Changed:
    facts: FileFacts
    text: str
    mtime_ns: int
    size: int


class Index:
    """One index directory; the embedder and Chroma are opened only when needed."""

    def __init__(self, directory: Path, settings: IndexSettings,
                 embedder_factory: Callable[[], Any] | None = None):
        self.directory = directory
        self.settings = settings
        self.store = FactStore(directory / STORE_NAME)
        self._embedder_factory = embedder_factory
        self._embedder = None
        self._vectors: VectorStore | None = None
        self._fresh: dict[tuple[str, str], FileFacts] = {}  # parsed since the last graph
        self._skipped_before: dict[str, tuple[int, int, str]] = {}

    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / STORE_NAME).is_file()

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            if self._embedder_factory is not None:
                self._embedder = self._embedder_factory()
            else:
                from ellora.knowledge_graph.embed import Embedder

                s = self.settings
                self._embedder = Embedder(s.embedding_model, s.embedding_device,
                                          s.embedding_batch, s.max_tokens, s.embedding_threads)
        return self._embedder

    @property
    def vectors(self) -> VectorStore:
        if self._vectors is None:
            client = open_client(self.directory, self.settings.chroma_url)
            self._vectors = VectorStore(client, self.settings.collection)
        return self._vectors

    def graph(self):
        path = self.directory / GRAPH_NAME
        if path.is_file():
            return load_graph(path)
        return self.rebuild_graph()

    def rebuild_graph(self):
        """The graph from every stored file's facts, saved next to the store."""
        fresh, self._fresh = self._fresh, {}
        with collector_paused():
            graph = build_graph(self.store.all_facts(fresh), self.store.repositories(),
                                self.settings.chunk_max_lines, self.settings.chunk_min_lines)
            save_graph(graph, self.directory / GRAPH_NAME)
        return graph

    def close(self) -> None:
        self.store.close()

    def add_many(self, sources: list[SourceSet], progress: Callable[[str], None] | None = None
                 ) -> list[IndexSummary]:
        """Index several repositories, rebuilding the graph once at the end."""
        with collector_paused():
            summaries = [self._add(source, progress, rebuild=False, commit=False)
                         for source in sources]
            self.store.commit()  # one commit (an fsync or two) for all
            if any(s.graph_stale for s in summaries) or not (self.directory /
                                                             GRAPH_NAME).is_file():
                started = time.perf_counter()
                self.rebuild_graph()
                summaries[-1].seconds["graph"] += time.perf_counter() - started
        return summaries

    def add(self, sources: SourceSet, progress: Callable[[str], None] | None = None,
            rebuild: bool = True) -> IndexSummary:
        """Index (or update) one repository's files; ``rebuild=False`` leaves the graph to the
        caller (:meth:`add_many`)."""
        with collector_paused():
            return self._add(sources, progress, rebuild, commit=True)

    def _add(self, sources: SourceSet, progress, rebuild: bool, commit: bool) -> IndexSummary:
        summary = IndexSummary(repository=sources.repository, origin=sources.origin)
        repo = sources.repository
        previous = {r.name: r for r in self.store.repositories()}.get(repo)
        if previous is not None and previous.vectors != self.settings.vectors:
            if previous.vectors:  # switching to graph only: drop the old vectors
                self.vectors.delete_repository(repo)
            self.store.remove_repository(repo)
        known = self.store.file_states(repo)
        self._skipped_before = self.store.skipped_states(repo)
        seen: set[str] = set()
        pending: list[_Pending] = []
        with ExitStack() as stack:
            pool = _Pool(stack, self.settings.workers)
            for path in sources.files:
                rel = sources.relative(path)
                seen.add(rel)
                summary.files_seen += 1
                item = self._scan(repo, path, rel, known.get(rel), summary)
                if item is not None:
                    pending.append(item)
                if len(pending) >= PARSE_WINDOW:
                    self._parse_and_store(repo, pending, known, summary, progress, pool)
                    pending = []
            if pending:
                self._parse_and_store(repo, pending, known, summary, progress, pool)
        for rel in sorted(set(known) - seen - set(summary.skipped_paths)):
            self._forget(repo, rel)
            summary.removed += 1
        newly_skipped = [rel for rel in summary.skipped_paths if rel in known]
        for rel in newly_skipped:
            self._forget(repo, rel)
        self.store.forget_skipped(repo, set(summary.skipped_paths))
        self._save_repository(sources, commit)
        summary.graph_stale = bool(summary.parsed or summary.removed or newly_skipped)
        if rebuild and (summary.graph_stale or not (self.directory / GRAPH_NAME).is_file()):
            started = time.perf_counter()
            self.rebuild_graph()
            summary.seconds["graph"] += time.perf_counter() - started
        return summary

    def _scan(self, repo: str, path: Path, rel: str, state, summary: IndexSummary
              ) -> _Pending | None:
        """Decide from stat, then the content hash, whether ``path`` needs parsing."""
        started = time.perf_counter()
        stat = None
        try:
            stat = path.stat()
            if state is not None and (stat.st_mtime_ns, stat.st_size) == (state.mtime_ns,
                                                                          state.size):
                summary.unchanged += 1
                return None
            before = self._skipped_before.get(rel)
            if before is not None and before[:2] == (stat.st_mtime_ns, stat.st_size):
                raise Unparseable(before[2])  # skipped before and unchanged: not read again
            if stat.st_size > self.settings.max_file_bytes:
                raise Unparseable("huge")
            data = path.read_bytes()
            text = check_text(data, self.settings.max_file_bytes)
            if state is not None and state.digest == content_digest(data):
                self.store.touch_file(repo, rel, stat.st_mtime_ns, stat.st_size)
                summary.unchanged += 1
                return None
        except Unparseable as error:
            self._skip(repo, summary, rel, error.reason, stat)
            return None
        except OSError:
            self._skip(repo, summary, rel, "unreadable", stat)
            return None
        finally:
            summary.seconds["scan"] += time.perf_counter() - started
        return _Pending(rel, data, text, language_of(path), stat.st_mtime_ns, stat.st_size)

    def _skip(self, repo: str, summary: IndexSummary, rel: str, reason: str,
              stat: tuple[int, int] | os.stat_result | None) -> None:
        """Count a skipped file and remember its stat, so an unchanged one is not read again."""
        summary.skipped[reason] += 1
        summary.skipped_paths.append(rel)
        if isinstance(stat, os.stat_result):
            stat = (stat.st_mtime_ns, stat.st_size)
        if stat is not None:
            self.store.put_skipped(repo, rel, stat[0], stat[1], reason)

    def _parse_and_store(self, repo: str, pending: list[_Pending], known: dict,
                         summary: IndexSummary, progress, pool: _Pool) -> None:
        """Parse pending files (in workers when many), then chunk, embed and store them."""
        started = time.perf_counter()
        items = [(p.rel, p.data, p.language) for p in pending]
        results = list(parse_many(items, pool.get() if len(items) >= MIN_PARALLEL else None))
        summary.seconds["parse"] += time.perf_counter() - started
        batch: list[_Changed] = []
        for item, result in zip(pending, results):
            if isinstance(result, str):
                self._skip(repo, summary, item.rel, result, (item.mtime_ns, item.size))
                continue
            summary.parsed += 1
            summary.lines_parsed += result.lines
            batch.append(_Changed(result, item.text, item.mtime_ns, item.size))
            if len(batch) >= FILE_BATCH:
                self._store_batch(repo, batch, known, summary, progress)
                batch = []
        if batch:
            self._store_batch(repo, batch, known, summary, progress)

    def _store_batch(self, repo: str, batch: list[_Changed], known: dict,
                     summary: IndexSummary, progress) -> None:
        """Chunk, embed and store a batch of parsed files."""
        s = self.settings
        records: list[ChunkRecord] = []
        embedding_texts: list[str] = []
        counts = []
        for item in batch:
            facts = item.facts
            plans = plan_chunks(facts, s.chunk_max_lines, s.chunk_min_lines)
            facts.chunks = [(p.start, p.end, p.definitions) for p in plans]
            counts.append(len(plans))
            if not s.vectors:
                continue
            if facts.path in known:
                self.vectors.delete_file(repo, facts.path)
            texts = chunk_texts(plans, facts, item.text, repo, s.max_tokens * 6)
            for plan, (document, _embedding_text) in zip(plans, texts):
                first = facts.definitions[plan.definitions[0]] if plan.definitions else None
                records.append(ChunkRecord(
                    id=plan.chunk_id(repo, facts.path), document=document, repository=repo,
                    path=facts.path, start=plan.start, end=plan.end, language=facts.language,
                    kind=first.kind if first else "file",
                    symbols="|".join(facts.definitions[i].qualified
                                     for i in plan.definitions[:16])))
            embedding_texts.extend(t for _, t in texts)
        started = time.perf_counter()
        with collector_running():  # other libraries' code
            embeddings = self.embedder.embed(embedding_texts) if records else []
        summary.seconds["embed"] += time.perf_counter() - started
        started = time.perf_counter()
        if records:
            with collector_running():
                self.vectors.add(records, embeddings)
        for item, count in zip(batch, counts):
            self.store.put_file(repo, item.facts, item.mtime_ns, item.size, count)
            self._fresh[(repo, item.facts.path)] = item.facts
        if s.vectors:
            # keep the store in step with Chroma, which has these chunks now; a graph-only
            # run commits once, with the repository row (each commit is an fsync or two)
            self.store.commit()
        summary.seconds["store"] += time.perf_counter() - started
        summary.chunks_added += len(records) if s.vectors else sum(counts)
        if progress is not None:
            progress(f"{repo}: {summary.parsed} files parsed of {summary.files_seen} seen, "
                     f"{summary.chunks_added} chunks {'embedded' if s.vectors else 'planned'}")

    def _forget(self, repo: str, rel: str) -> None:
        if self.settings.vectors:
            self.vectors.delete_file(repo, rel)
        self.store.delete_file(repo, rel)
        if self.settings.vectors:
            self.store.commit()  # in step with Chroma; else the repository row commits

    def _save_repository(self, sources: SourceSet, commit: bool = True) -> None:
        library = sources.library
        self.store.save_repository(sources.repository, str(sources.root), sources.origin,
                                   library.license if library else "",
                                   library.repository if library else "",
                                   self.settings.vectors, commit)

    def remove(self, repository: str) -> bool:
        """Drop a repository from the store, the vectors and the graph."""
        record = {r.name: r for r in self.store.repositories()}.get(repository)
        if record is None:
            return False
        if record.vectors:
            self.vectors.delete_repository(repository)
        self.store.remove_repository(repository)
        self.rebuild_graph()
        return True

    def stats(self) -> dict[str, dict[str, Any]]:
        """Files, lines, chunks, graph nodes and edges per repository; the API construct
        nodes shared by all repositories (and their edges) under ``(api constructs)``."""
        counts = self.store.counts()
        graph = self.graph()
        per_repo: dict[str, dict[str, int]] = {
            r.name: {"files": 0, "lines": 0, "chunks": 0, "nodes": 0, "edges": 0}
            for r in self.store.repositories()}
        for repo, values in counts.items():
            per_repo.setdefault(repo, {"nodes": 0, "edges": 0}).update(values)
        shared = {"files": 0, "lines": 0, "chunks": 0, "nodes": 0, "edges": 0}
        for _node, data in graph.nodes(data=True):
            repo = data.get("repository")
            (per_repo.get(repo, shared))["nodes"] += 1
        for source, _target in graph.edges():
            repo = graph.nodes[source].get("repository")
            (per_repo.get(repo, shared))["edges"] += 1
        for record in self.store.repositories():
            per_repo[record.name]["origin"] = record.origin
        if shared["nodes"]:
            per_repo["(api constructs)"] = shared
        return per_repo


_paused = 0  # collector_paused blocks that turned the collector off


@contextmanager
def collector_paused():
    """Python's cycle collector off while indexing: scanning, parsing, planning chunks, storing
    facts and building the graph make hundreds of thousands of acyclic objects (facts, nodes,
    edges), and the collections their growth triggers, each walking the live objects, cost
    about a sixth of a graph-only build. Reference counting still frees garbage; the collector
    resumes afterwards, and for other libraries' code inside (:func:`collector_running`)."""
    global _paused
    if not gc.isenabled():
        yield
        return
    gc.disable()
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1
        gc.enable()


@contextmanager
def collector_running():
    """The collector back on (if :func:`collector_paused` turned it off) for a block."""
    if gc.isenabled() or not _paused:
        yield
        return
    gc.enable()
    try:
        yield
    finally:
        gc.disable()


def directory_size(path: Path) -> int:
    """Bytes on disk under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0
