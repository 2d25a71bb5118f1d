"""The code knowledge graph (networkx ``DiGraph``) built from every file's facts.

Nodes: ``repo:``, ``file:``, ``ns:`` (namespace, merged per repository), ``def:`` (class,
struct, type, function, method, macro) and ``api:`` (Kokkos/OpenMP/MPI/CUDA constructs).
Edges carry ``kind``: contains, includes, calls, references, inherits, uses_api.
Names are resolved nearest first: same file, included files, same repository, anywhere.
The graph is read-only once built (edges of one kind share their attribute dict): ``copy()``
it before changing attributes.
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
        # name -> (node, kind, file node, repository) of the definitions with that name
        self.by_name: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
        self.files_by_base: dict[str, list[str]] = defaultdict(list)
        self.pending: list[tuple[str, str, FileFacts, list[str]]] = []
        self.declared: set[str] = set()
        self.nodes: list[tuple[str, dict]] = []
        # edges as networkx will hold them, filled in creation order: source -> target ->
        # attributes and target -> source -> attributes (one shared dict per edge kind)
        self.out: dict[str, dict[str, dict]] = {}
        self.into: dict[str, dict[str, dict]] = {}
        self.kinds: dict[str, dict[str, str]] = {}
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
        self._link(f"repo:{repository}", fid, "contains")
        self.files_by_base[facts.path.rsplit("/", 1)[-1]].append(fid)
        ids = self._add_definitions(repository, facts, fid)
        self.pending.append((repository, fid, facts, ids))

    def _add_definitions(self, repository: str, facts: FileFacts, fid: str) -> list[str]:
        ids: list[str] = []
        chunk_of: dict[int, str] = {}
        plans = getattr(facts, "chunks", None) or [(p.start, p.end, p.definitions) for p in
                                 plan_chunks(facts, self.max_lines, self.min_lines)]
        prefix = f"{repository}/{facts.path}:"
        for start, end, definitions in plans:
            chunk = f"{prefix}{start}-{end}"
            for index in definitions:
                chunk_of.setdefault(index, chunk)
        path, language = facts.path, facts.language
        nodes, by_name, declared = self.nodes, self.by_name, self.declared
        for index, d in enumerate(facts.definitions):
            kind = d.kind
            if kind == "namespace":
                node = f"ns:{repository}/{d.qualified}"
                nodes.append((node, {"kind": "namespace", "name": d.name,
                                     "qualified": d.qualified, "repository": repository}))
            else:
                node = f"def:{prefix}{d.start}:{d.qualified}"
                nodes.append((node, {
                    "kind": kind, "name": d.name, "qualified": d.qualified,
                    "repository": repository, "path": path, "start": d.doc_start,
                    "declaration": d.declaration, "language": language,
                    "chunk": chunk_of.get(index)}))
                by_name[d.name].append((node, kind, fid, repository))
                if d.declaration:
                    declared.add(node)
            ids.append(node)
        self._add_containment(facts, fid, ids)
        return ids

    def _add_containment(self, facts: FileFacts, fid: str, ids: list[str]) -> None:
        defs = facts.definitions
        order = sorted((d.start, -d.end, i) for i, d in enumerate(defs))
        stack: list[int] = []  # ends of the open definitions
        parents: list[tuple[str, dict[str, dict]]] = []  # their ids and outgoing edges
        out, into, contains = self.out, self.into, self._kind("contains")
        outer = (fid, self._row(fid))
        for _start, negative_end, index in order:
            end = -negative_end
            while stack and stack[-1] < end:
                stack.pop()
                parents.pop()
            node = ids[index]
            parent, row = parents[-1] if parents else outer
            if node not in row:  # self._link(parent, node, "contains"), inlined
                row[node] = contains
                back = into.get(node)
                if back is None:
                    back = into[node] = {}
                back[parent] = contains
            stack.append(end)
            row = out.get(node)
            if row is None:
                row = out[node] = {}
            parents.append((node, row))

    def build(self) -> nx.DiGraph:
        """Resolve includes, calls, references, bases and constructs into edges."""
        _add_nodes(self.graph, self.nodes)
        self.nodes.clear()
        out, into = self.out, self.into
        calls, references = self._kind("calls"), self._kind("references")
        for repository, fid, facts, ids in self.pending:
            included = self._resolve_includes(repository, fid, facts.includes)
            scope = {fid, *included}
            # same name, same file: resolved once (calls and type uses apart)
            resolved: dict[str, dict[str, list[str]]] = {"call": {}, "type": {}}
            for owner, kind, name, _qualified in facts.references:
                known = resolved[kind]
                targets = known.get(name)
                if targets is None:
                    targets = known[name] = self._resolve(
                        name, repository, scope, CALLABLE if kind == "call" else TYPES)
                if not targets:
                    continue
                source = ids[owner] if owner >= 0 else fid
                row = out.get(source)
                if row is None:
                    row = out[source] = {}
                data = calls if kind == "call" else references
                for target in targets:  # self._link(source, target, ...), inlined
                    if target != source and target not in row:
                        row[target] = data
                        back = into.get(target)
                        if back is None:
                            back = into[target] = {}
                        back[source] = data
            for owner, base in facts.bases:
                for target in self._resolve(base, repository, scope, TYPES):
                    self._link(ids[owner] if owner >= 0 else fid, target, "inherits")
            for owner, construct, _line in facts.constructs:
                self._add_api(ids[owner] if owner >= 0 else fid, construct)
        self._link_api_definitions()
        self.pending.clear()
        _add_edges(self.graph, out, into)
        out.clear()
        into.clear()
        return self.graph

    def _kind(self, kind: str) -> dict[str, str]:
        """The attribute dict shared by the edges of one kind (the graph is read-only)."""
        data = self.kinds.get(kind)
        if data is None:
            data = self.kinds[kind] = {"kind": kind}
        return data

    def _row(self, source: str) -> dict[str, dict]:
        """The outgoing edges of ``source``: target -> attributes."""
        row = self.out.get(source)
        if row is None:
            row = self.out[source] = {}
        return row

    def _link(self, source: str, target: str, kind: str) -> None:
        """An edge, unless one from ``source`` to ``target`` exists (the first kind stays)."""
        row = self._row(source)
        if target in row:
            return
        data = row[target] = self._kind(kind)
        back = self.into.get(target)
        if back is None:
            back = self.into[target] = {}
        back[source] = data

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
            found = [entry for entry in self.by_name.get(name, ()) if entry[1] in kinds]
            by_file: dict[str, list[str]] = defaultdict(list)
            for node, _kind, fid, _repository in found:
                by_file[fid].append(node)
            pool = ([entry[0] for entry in found if entry[3] == repository]
                    or [entry[0] for entry in found])
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
            for target, *_ in self.by_name.get(name, ()):
                qualified = self.graph.nodes[target]["qualified"]
                if qualified == data["name"] or qualified.endswith("::" + data["name"]) or (
                        "::" not in data["name"] and qualified == name):
                    self._link(node, target, "references")


def _add_nodes(graph: nx.DiGraph, nodes: list[tuple[str, dict]]) -> None:
    """``graph.add_nodes_from(nodes)`` without its per-node checks and copies: the attribute
    dicts are fresh, so they go into networkx's node and adjacency dicts as they are."""
    node_attrs, succ, pred = graph._node, graph._succ, graph._pred
    for node, attrs in nodes:
        known = node_attrs.get(node)
        if known is None:
            node_attrs[node] = attrs
            succ[node] = {}
            pred[node] = {}
        else:  # a namespace seen in another file: same attributes, later ones win
            known.update(attrs)


def _add_edges(graph: nx.DiGraph, out: dict[str, dict[str, dict]],
               into: dict[str, dict[str, dict]]) -> None:
    """The edges into networkx's adjacency dicts as they are: ``out`` and ``into`` were filled
    in edge creation order, which is the order ``add_edges_from`` would have given."""
    succ, pred = graph._succ, graph._pred
    for node, row in out.items():
        if node not in succ:
            graph.add_node(node)  # an edge end that is no node: networkx adds it bare
        succ[node] = row
    for node, row in into.items():
        if node not in succ:
            graph.add_node(node)
        pred[node] = row


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
