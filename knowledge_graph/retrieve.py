"""Hybrid retrieval: vector hits expanded through the knowledge graph and re-ranked with
personalized PageRank seeded by the hits and by the identifiers in the query and the user's
code. Every snippet says where it came from and why it was chosen.

Modes (for the benchmark): ``vector`` (Chroma only), ``graph`` (name matches + PageRank, no
embeddings), ``hybrid`` (both).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from ellora.knowledge_graph.config import IndexSettings
from ellora.knowledge_graph.indexer import Index
from ellora.knowledge_graph.rank import (
    NameIndex,
    neighbourhood,
    personalized_pagerank,
    query_terms,
)

MODES = ("hybrid", "vector", "graph")
GRAPH_CANDIDATES = 30
RELATIONS = {"calls": ("calls", "called by"), "references": ("uses type", "used by"),
             "inherits": ("derives from", "base of"), "uses_api": ("uses", "used by"),
             "contains": ("inside", "contains"), "includes": ("includes", "included by")}


@dataclass
class Snippet:
    """A piece of indexed code with its source and the reasons it was chosen."""

    repository: str
    path: str
    start: int
    end: int
    score: float
    why: list[str]
    text: str = ""
    symbols: list[str] = field(default_factory=list)
    license: str = ""

    @property
    def lines(self) -> str:
        return f"{self.start}-{self.end}"

    def to_dict(self) -> dict[str, Any]:
        return {"repository": self.repository, "path": self.path, "lines": self.lines,
                "score": round(self.score, 4), "why": list(self.why),
                "symbols": list(self.symbols), "license": self.license, "text": self.text}


@dataclass
class _Candidate:
    chunk: str
    vector: float = 0.0
    graph: float = 0.0
    lexical: float = 0.0
    exact: float = 0.0
    why: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)


class Retriever:
    """Queries one index; open it once, then call :meth:`retrieve` many times."""

    def __init__(self, index: Index):
        self.index = index
        self.settings: IndexSettings = index.settings
        self.graph = index.graph()
        self.names = NameIndex(self.graph)
        self.chunk_nodes: dict[str, list[str]] = defaultdict(list)
        for node, data in self.graph.nodes(data=True):
            if data.get("chunk"):
                self.chunk_nodes[data["chunk"]].append(node)
        self.repositories = {r.name: r for r in index.store.repositories()}
        self.has_vectors = any(r.vectors for r in self.repositories.values())

    @classmethod
    def open(cls, directory: Path, settings: IndexSettings, embedder_factory=None) -> Retriever:
        return cls(Index(directory, settings, embedder_factory))

    def close(self) -> None:
        self.index.close()

    def retrieve(self, query: str, k: int = 5, filters: dict[str, Any] | None = None,
                 code: str | None = None, mode: str = "hybrid") -> list[Snippet]:
        """The ``k`` best snippets for ``query`` (and the user's ``code``, if given)."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}: use one of {MODES}")
        candidates: dict[str, _Candidate] = {}
        documents: dict[str, dict[str, Any]] = {}
        embedding = None
        if not self.has_vectors:
            mode = "graph"
        if mode != "graph":
            embedding = self.index.embedder.embed([_query_text(query, code)])[0]
            for rank, hit in enumerate(self.index.vectors.query(
                    embedding, self.settings.vector_candidates, filters), start=1):
                documents[hit["id"]] = hit
                candidates[hit["id"]] = _Candidate(hit["id"], vector=hit["similarity"], why=[
                    f"vector hit #{rank} (similarity {hit['similarity']:.2f})"])
        context = self._expand(query, code, candidates, filters) if mode != "vector" else None
        self._fill(candidates, documents, embedding)
        return self._best(candidates, documents, k, mode, context)

    def _expand(self, query: str, code: str | None, candidates: dict[str, _Candidate],
                filters: dict[str, Any] | None) -> tuple | None:
        """Seed PageRank with vector hits and name matches; add the best-ranked neighbours."""
        _, stems = query_terms(f"{query}\n{code or ''}")
        lexical = self.names.match(stems)
        top = max(lexical.values(), default=1.0)
        named = [i for i in query_terms(query)[0] if _looks_like_code(i)]
        named += [i for i in query_terms(code)[0] if len(i) > 2] if code else []
        exact = self.names.definitions_of(named)
        seeds: dict[str, float] = defaultdict(float)
        for chunk, candidate in candidates.items():
            for node in self.chunk_nodes.get(chunk, ()):
                seeds[node] += max(candidate.vector, 0.0) ** 4
        for node, score in lexical.items():
            seeds[node] += 0.5 * score / top
        for node in exact:
            seeds[node] += 1.0
        if not seeds:
            return None
        keep = neighbourhood(self.graph, dict(seeds))
        rank = personalized_pagerank(self.graph, keep, dict(seeds))
        best = max(rank.values(), default=1.0) or 1.0
        ranked = sorted((n for n in rank if self.graph.nodes[n].get("chunk")
                         and _passes(self.graph.nodes[n], filters)), key=rank.get, reverse=True)
        chosen = [n for n in exact if n in rank and self.graph.nodes[n].get("chunk")
                  and _passes(self.graph.nodes[n], filters)]
        for node in dict.fromkeys(chosen + ranked[:GRAPH_CANDIDATES]):
            data = self.graph.nodes[node]
            candidate = candidates.setdefault(data["chunk"], _Candidate(data["chunk"]))
            candidate.graph = max(candidate.graph, rank[node] / best)
            candidate.lexical = max(candidate.lexical, lexical.get(node, 0.0) / top)
            candidate.exact = max(candidate.exact, 1.0 if node in exact else 0.0)
            candidate.nodes.append(node)
        return seeds, exact, lexical

    def _reasons(self, node: str, seeds, exact, lexical, candidates) -> list[str]:
        data = self.graph.nodes[node]
        reasons = []
        if node in exact:
            reasons.append(f"definition of {exact[node]} (named in the query or code)")
        elif node in lexical:
            reasons.append(f"name match: {data['qualified']}")
        # the raw adjacency dicts: networkx's views are slow to iterate in a query path
        around = [*list(self.graph._succ[node])[:100], *list(self.graph._pred[node])[:100]]
        for neighbour in around:
            kind = self.graph.nodes[neighbour]["kind"]
            if kind == "api" and neighbour in seeds:
                reasons.append(f"API match: {self.graph.nodes[neighbour]['name']}")
            elif self.graph.nodes[neighbour].get("chunk") in candidates and neighbour in seeds \
                    and self.graph.nodes[neighbour].get("chunk") != data["chunk"]:
                relation = _relation(self.graph, node, neighbour)
                reasons.append(f"graph neighbour: {relation} "
                               f"{self.graph.nodes[neighbour]['qualified']}")
            if len(reasons) >= 3:
                break
        return reasons or [f"graph rank: {data['qualified']}"]

    def _fill(self, candidates: dict[str, _Candidate], documents: dict[str, dict],
              embedding) -> None:
        """Fetch graph-found chunks; give them the same vector similarity as hits."""
        missing = [c for c in candidates if c not in documents]
        if not missing:
            return
        if not self.has_vectors:
            documents.update(self._from_files(missing))
            for chunk in missing:
                if chunk not in documents:
                    del candidates[chunk]
            return
        include = ["documents", "metadatas"] + (["embeddings"] if embedding is not None else [])
        found = self.index.vectors.collection.get(ids=missing, include=include)
        similarities = (np.asarray(found["embeddings"], dtype=np.float32) @ np.asarray(
            embedding, dtype=np.float32)) if embedding is not None and found["ids"] else None
        for position, chunk in enumerate(found["ids"]):
            documents[chunk] = {"id": chunk, "document": found["documents"][position],
                                "metadata": found["metadatas"][position]}
            if similarities is not None:
                candidates[chunk].vector = float(similarities[position])
        for chunk in missing:
            if chunk not in documents:
                del candidates[chunk]

    def _from_files(self, chunks: list[str]) -> dict[str, dict]:
        """Chunks of a graph-only index, read from the indexed files."""
        found = {}
        for chunk in chunks:
            nodes = self.chunk_nodes.get(chunk)
            if not nodes:
                continue
            data = self.graph.nodes[nodes[0]]
            start, end = (int(x) for x in chunk.rsplit(":", 1)[1].split("-"))
            root = Path(self.repositories[data["repository"]].root)
            lines = _file_lines(str(root / data["path"]))
            if lines is None:
                continue
            found[chunk] = {"id": chunk, "document": "\n".join(lines[start - 1:end]),
                            "metadata": {"repository": data["repository"], "path": data["path"],
                                         "start": start, "end": end, "symbols": "|".join(
                                             self.graph.nodes[n]["qualified"] for n in nodes)}}
        return found

    def _best(self, candidates: dict[str, _Candidate], documents: dict[str, dict], k: int,
              mode: str, context: tuple | None) -> list[Snippet]:
        s = self.settings
        scored = []
        for chunk, c in candidates.items():
            if mode == "vector":
                score = c.vector
            elif mode == "graph":
                score = c.graph + s.lexical_weight * c.lexical + s.identifier_weight * c.exact
            else:
                score = (c.vector + s.graph_weight * c.graph + s.lexical_weight * c.lexical
                         + s.identifier_weight * c.exact)
            scored.append((score, chunk))
        scored.sort(reverse=True)
        snippets: list[Snippet] = []
        for score, chunk in scored:
            meta = documents[chunk]["metadata"]
            if any(_overlaps(meta, other) for other in snippets):
                continue
            found = candidates[chunk]
            if context is not None:
                for node in found.nodes:
                    found.why.extend(self._reasons(node, *context, candidates))
            snippets.append(Snippet(
                repository=meta["repository"], path=meta["path"], start=int(meta["start"]),
                end=int(meta["end"]), score=score, why=_dedupe(candidates[chunk].why),
                text=documents[chunk]["document"], license=self.repositories[
                    meta["repository"]].license if meta["repository"] in self.repositories
                else "",
                symbols=[s for s in meta.get("symbols", "").split("|") if s]))
            if len(snippets) == k:
                break
        return snippets


@lru_cache(maxsize=256)
def _file_lines(path: str) -> list[str] | None:
    """Lines of an indexed file (graph-only indexes read snippets from the files)."""
    try:
        return Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return None


def _query_text(query: str, code: str | None) -> str:
    return f"{query}\n{code[:1500]}" if code else query


def _looks_like_code(identifier: str) -> bool:
    """``parallel_reduce``, ``Kokkos::View``, ``HYPRE_Int``, ``deepCopy``: not plain words
    (a capitalised word of a question, like ``View``, is not enough)."""
    return "_" in identifier or "::" in identifier or any(c.isupper() for c in identifier[1:])


def _passes(data: dict, filters: dict[str, Any] | None) -> bool:
    for key, wanted in (filters or {}).items():
        value = data.get(key)
        if isinstance(wanted, (list, tuple, set)):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def _relation(graph, node: str, neighbour: str) -> str:
    if graph.has_edge(node, neighbour):
        return RELATIONS.get(graph[node][neighbour]["kind"], ("linked to",))[0]
    if graph.has_edge(neighbour, node):
        return RELATIONS.get(graph[neighbour][node]["kind"], ("", "linked to"))[1]
    return "near"


def _overlaps(meta: dict, snippet: Snippet) -> bool:
    return (meta["repository"] == snippet.repository and meta["path"] == snippet.path
            and int(meta["start"]) <= snippet.end and snippet.start <= int(meta["end"]))


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))[:4]
