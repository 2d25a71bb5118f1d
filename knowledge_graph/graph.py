"""The code knowledge graph (networkx ``DiGraph``) built from every file's facts.

Nodes: ``repo:``, ``file:``, ``ns:`` (namespace, merged per repository), ``def:`` (class,
struct, type, function, method, macro) and ``api:`` (Kokkos/OpenMP/MPI/CUDA constructs).
Edges carry ``kind``: contains, includes, calls, references, inherits, uses_api.
Names are resolved nearest first: same file, included files, same repository, anywhere.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import networkx as nx
from ellora.knowledge_graph.chunks import plan_chunks
from ellora.knowledge_graph.constructs import family_of
from ellora.knowledge_graph.parse import FileFacts

CALLABLE = {"function", "method", "macro"}
TYPES = {"class", "struct", "type"}
MAX_TARGETS = 3
AMBIGUOUS = 12  # more same-named candidates than this in one repository: too vague to link


def def_id(repository: str, path: str, start: int, qualified: str) -> str:
    return f"def:{repository}/{path}:{start}:{qualified}"


def file_id(repository: str, path: str) -> str:
    return f"file:{repository}/{path}"


class GraphBuilder:
    """Accumulates files, then resolves names into edges."""

    def __init__(self, max_lines: int, min_lines: int):
        self.graph = nx.DiGraph()
        self.max_lines, self.min_lines = max_lines, min_lines
        self.by_name: dict[str, list[str]] = defaultdict(list)
        self.files_by_base: dict[str, list[str]] = defaultdict(list)
        self.pending: list[tuple[str, str, FileFacts, list[str]]] = []
        self.file_of: dict[str, str] = {}
        self.kind_of: dict[str, str] = {}
        self.repo_of: dict[str, str] = {}
        self.declared: set[str] = set()
        self.nodes: list[tuple[str, dict]] = []
        self.edges: dict[tuple[str, str], str] = {}
        self._cache: dict[tuple, tuple[dict[str, list[str]], list[str]]] = {}

    def add_repository(self, name: str, **attrs) -> None:
        self.graph.add_node(f"repo:{name}", kind="repository", name=name, repository=name,
                            **attrs)

    def add_file(self, repository: str, facts: FileFacts) -> None:
        graph, fid = self.graph, file_id(repository, facts.path)
        if f"repo:{repository}" not in graph:
            self.add_repository(repository)
        graph.add_node(fid, kind="file", name=facts.path.rsplit("/", 1)[-1], path=facts.path,
                       repository=repository, language=facts.language, lines=facts.lines)
        self.edges[(f"repo:{repository}", fid)] = "contains"
        self.files_by_base[facts.path.rsplit("/", 1)[-1]].append(fid)
        ids = self._add_definitions(repository, facts, fid)
        self.pending.append((repository, fid, facts, ids))

    def _add_definitions(self, repository: str, facts: FileFacts, fid: str) -> list[str]:
        ids: list[str] = []
        chunk_of = {}
        plans = getattr(facts, "chunks", None) or [(p.start, p.end, p.definitions) for p in
                                 plan_chunks(facts, self.max_lines, self.min_lines)]
        for start, end, definitions in plans:
            for index in definitions:
                chunk_of.setdefault(index, f"{repository}/{facts.path}:{start}-{end}")
        for index, d in enumerate(facts.definitions):
            if d.kind == "namespace":
                node = f"ns:{repository}/{d.qualified}"
                self.nodes.append((node, {"kind": "namespace", "name": d.name,
                                          "qualified": d.qualified, "repository": repository}))
            else:
                node = f"def:{repository}/{facts.path}:{d.start}:{d.qualified}"
                self.nodes.append((node, {
                    "kind": d.kind, "name": d.name, "qualified": d.qualified,
                    "repository": repository, "path": facts.path, "start": d.doc_start,
                    "declaration": d.declaration, "language": facts.language,
                    "chunk": chunk_of.get(index)}))
                self.by_name[d.name].append(node)
                self.file_of[node] = fid
                self.kind_of[node] = d.kind
                self.repo_of[node] = repository
                if d.declaration:
                    self.declared.add(node)
            ids.append(node)
        self._add_containment(facts, fid, ids)
        return ids

    def _add_containment(self, facts: FileFacts, fid: str, ids: list[str]) -> None:
        defs = facts.definitions
        order = sorted(range(len(defs)), key=lambda i: (defs[i].start, -defs[i].end))
        stack: list[int] = []
        for index in order:
            while stack and defs[stack[-1]].end < defs[index].end:
                stack.pop()
            parent = ids[stack[-1]] if stack else fid
            self.edges[(parent, ids[index])] = "contains"
            stack.append(index)

    def build(self) -> nx.DiGraph:
        """Resolve includes, calls, references, bases and constructs into edges."""
        self.graph.add_nodes_from(self.nodes)
        self.nodes.clear()
        for repository, fid, facts, ids in self.pending:
            included = self._resolve_includes(repository, fid, facts.includes)
            scope = {fid, *included}
            resolved: dict[tuple[str, str], list[str]] = {}  # same name, same file: once
            edges = self.edges
            for owner, kind, name, _qualified in facts.references:
                source = ids[owner] if owner >= 0 else fid
                targets = resolved.get((kind, name))
                if targets is None:
                    targets = resolved[(kind, name)] = self._resolve(
                        name, repository, scope, CALLABLE if kind == "call" else TYPES)
                edge = "calls" if kind == "call" else "references"
                for target in targets:
                    if target != source:
                        edges.setdefault((source, target), edge)
            for owner, base in facts.bases:
                for target in self._resolve(base, repository, scope, TYPES):
                    self._link(ids[owner] if owner >= 0 else fid, target, "inherits")
            for owner, construct, _line in facts.constructs:
                self._add_api(ids[owner] if owner >= 0 else fid, construct)
        self._link_api_definitions()
        self.pending.clear()
        self.graph.add_edges_from((u, v, {"kind": k}) for (u, v), k in self.edges.items())
        self.edges.clear()
        return self.graph

    def _link(self, source: str, target: str, kind: str) -> None:
        self.edges.setdefault((source, target), kind)

    def _resolve_includes(self, repository: str, fid: str, includes: list[str]) -> set[str]:
        found = set()
        for include in includes:
            candidates = self.files_by_base.get(include.rsplit("/", 1)[-1], [])
            matches = [c for c in candidates if c.endswith(("/" + include, include))]
            same = [c for c in matches if c.startswith(f"file:{repository}/")]
            for target in (same or matches)[:MAX_TARGETS]:
                found.add(target)
                self._link(fid, target, "includes")
        return found

    def _resolve(self, name: str, repository: str, scope: set[str], kinds: set[str]
                 ) -> list[str]:
        by_file, far = self._candidates(name, repository, kinds)
        if not by_file:
            return []
        if len(by_file) < len(scope):
            near = [c for fid, nodes in by_file.items() if fid in scope for c in nodes]
        else:
            near = [c for fid in scope for c in by_file.get(fid, ())]
        return self._prefer_definitions(near) if near else far

    def _prefer_definitions(self, nodes: list[str]) -> list[str]:
        bodies = [n for n in nodes if n not in self.declared]
        return (bodies or nodes)[:MAX_TARGETS]

    def _candidates(self, name: str, repository: str, kinds: set[str]
                    ) -> tuple[dict[str, list[str]], list[str]]:
        """Same-named definitions by file, and the fallback when none is near (cached)."""
        key = (name, repository, id(kinds))
        if key not in self._cache:
            candidates = [c for c in self.by_name.get(name, ()) if self.kind_of[c] in kinds]
            by_file: dict[str, list[str]] = defaultdict(list)
            for c in candidates:
                by_file[self.file_of[c]].append(c)
            same = [c for c in candidates if self.repo_of[c] == repository]
            pool = same or candidates
            far = [] if len(pool) > AMBIGUOUS else self._prefer_definitions(pool)
            self._cache[key] = (by_file, far)
        return self._cache[key]

    def _add_api(self, source: str, construct: str) -> None:
        node = f"api:{construct}"
        if node not in self.graph:
            self.graph.add_node(node, kind="api", name=construct, qualified=construct,
                                family=family_of(construct), repository="")
        self._link(source, node, "uses_api")

    def _link_api_definitions(self) -> None:
        """An API node references the library definitions that implement it."""
        for node, data in list(self.graph.nodes(data=True)):
            if data["kind"] != "api":
                continue
            name = data["name"].rsplit("::", 1)[-1]
            for target in self.by_name.get(name, ()):
                qualified = self.graph.nodes[target]["qualified"]
                if qualified == data["name"] or qualified.endswith("::" + data["name"]) or (
                        "::" not in data["name"] and qualified == name):
                    self._link(node, target, "references")


def build_graph(records: Iterable[tuple[str, FileFacts]], repositories: Iterable,
                max_lines: int, min_lines: int) -> nx.DiGraph:
    """The whole graph from the fact store's records and repository rows."""
    builder = GraphBuilder(max_lines, min_lines)
    for repo in repositories:
        builder.add_repository(repo.name, origin=repo.origin, license=repo.license, url=repo.url)
    for repository, facts in records:
        builder.add_file(repository, facts)
    return builder.build()


def save_graph(graph: nx.DiGraph, path: Path) -> None:
    """Write atomically (a reader never sees half a graph)."""
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(graph, handle, protocol=5)
    partial.replace(path)


def load_graph(path: Path) -> nx.DiGraph:
    with path.open("rb") as handle:
        return pickle.load(handle)
