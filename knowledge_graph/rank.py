"""Ranking over the graph: identifier/word matches against definition names, and personalized
PageRank on the neighbourhood of the seeds (the aider repo-map idea, per query)."""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter, defaultdict
from functools import lru_cache
from importlib import resources

import networkx as nx
import numpy as np

EDGE_WEIGHTS = {"calls": 1.0, "inherits": 0.8, "uses_api": 0.8, "references": 0.6,
                "contains": 0.4, "includes": 0.2}
STOPWORDS = {"a", "an", "the", "how", "to", "do", "does", "i", "in", "into", "of", "on", "for",
             "and", "or", "with", "what", "which", "is", "are", "be", "can", "use", "using",
             "from", "by", "that", "this", "it", "my", "each", "all", "over", "get", "set",
             "where", "when", "there", "way", "some", "one", "its", "as", "at", "via", "per",
             "code", "example", "show", "me", "find", "write"}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_~][A-Za-z0-9_]*)*")
WORD_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
STEM_CHARS = 5
NEIGHBOURS_PER_HUB = 25
MAX_SUBGRAPH = 1500


def stem(word: str) -> str:
    """A crude stem: lower case, plural stripped, first five letters (reduce ~ reduction)."""
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("es") and len(word) > 4 and word[-3] in "sxh":
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    return word[:STEM_CHARS]


def name_stems(name: str) -> list[str]:
    """``HYPRE_StructPCGSetup`` -> ``['hypre', 'struc', 'pcg', 'setup']``."""
    return [stem(part) for part in WORD_PARTS.findall(name) if len(part) > 1]


@lru_cache(maxsize=1)
def abbreviations() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(word -> abbreviations, phrase -> acronyms) from ``data/abbreviations.toml``."""
    text = resources.files("ellora.knowledge_graph").joinpath(
        "data/abbreviations.toml").read_text()
    data = tomllib.loads(text)
    return data["words"], data["phrases"]


def query_terms(text: str) -> tuple[list[str], list[str]]:
    """(identifiers as written, stems of the words and of their usual abbreviations in code)
    of a query or a piece of code."""
    words, phrases = abbreviations()
    identifiers = IDENTIFIER.findall(text)
    stems = []
    for identifier in identifiers:
        for part in WORD_PARTS.findall(identifier):
            lowered = part.lower()
            if len(part) > 1 and lowered not in STOPWORDS:
                stems.append(stem(part))
                stems += [stem(short) for short in words.get(lowered, ())]
    lowered_text = " ".join(text.lower().replace("-", " ").split())
    for phrase, acronyms in phrases.items():
        if phrase in lowered_text:
            stems += [stem(acronym) for acronym in acronyms]
    return identifiers, stems


class NameIndex:
    """Stems of definition and API names -> nodes, with idf weights."""

    def __init__(self, graph: nx.DiGraph):
        self.postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.exact: dict[str, list[str]] = defaultdict(list)
        for node, data in graph.nodes(data=True):
            if data["kind"] in ("file", "repository", "namespace"):
                continue
            parts = name_stems(data["name"])
            if not parts:
                continue
            norm = 1.0 / math.sqrt(len(parts))
            for part in set(parts):
                self.postings[part].append((node, norm))
            self.exact[data["name"]].append(node)
            if data["kind"] == "api":
                self.exact[data["name"].rsplit("::", 1)[-1]].append(node)
        total = max(1, sum(1 for _ in graph.nodes))
        self.idf = {s: math.log(1 + total / len(p)) for s, p in self.postings.items()}

    def match(self, stems: list[str], limit: int = 30) -> dict[str, float]:
        """Nodes whose names share stems with the query, scored like BM25 without lengths."""
        scores: Counter = Counter()
        for part in set(stems):
            weight = self.idf.get(part)
            if weight is None:
                continue
            for node, norm in self.postings[part]:
                scores[node] += weight * norm
        return dict(scores.most_common(limit))

    def definitions_of(self, identifiers: list[str]) -> dict[str, str]:
        """Nodes named exactly like an identifier (last component), node -> identifier."""
        found = {}
        for identifier in identifiers:
            name = identifier.rsplit("::", 1)[-1]
            nodes = self.exact.get(name, ())
            if 0 < len(nodes) <= 12:
                for node in nodes:
                    found.setdefault(node, identifier)
        return found


def neighbourhood(graph: nx.DiGraph, seeds: dict[str, float]) -> set[str]:
    """The seeds and their neighbours (hubs sampled), plus the definitions reached through a
    shared API node (examples using the same API)."""
    keep: set[str] = set(seeds)
    for seed in sorted(seeds, key=seeds.get, reverse=True):
        for neighbour in _limited_neighbours(graph, seed):
            keep.add(neighbour)
            if graph.nodes[neighbour]["kind"] == "api":
                keep.update(_limited_neighbours(graph, neighbour))
        if len(keep) > MAX_SUBGRAPH:
            break
    return keep


def _limited_neighbours(graph: nx.DiGraph, node: str) -> list[str]:
    # the raw adjacency dicts (graph._succ/_pred): networkx's views are slow to iterate here
    out = list(graph._succ[node])
    into = list(graph._pred[node])
    if len(out) + len(into) <= 2 * NEIGHBOURS_PER_HUB:
        return out + into
    return out[:NEIGHBOURS_PER_HUB] + into[:NEIGHBOURS_PER_HUB]


def personalized_pagerank(graph: nx.DiGraph, keep: set[str], seeds: dict[str, float],
                          alpha: float = 0.6, iterations: int = 40) -> dict[str, float]:
    """PageRank restarting at the seeds on the undirected, weighted subgraph of ``keep``
    (edge weights by kind); power iteration with numpy."""
    nodes = list(keep)
    position = {node: i for i, node in enumerate(nodes)}
    sources, targets, weights = [], [], []
    for node in nodes:
        i = position[node]
        for target, data in graph._succ[node].items():
            j = position.get(target)
            if j is not None:
                weight = EDGE_WEIGHTS.get(data["kind"], 0.3)
                sources += (i, j)
                targets += (j, i)
                weights += (weight, weight)
    restart = np.zeros(len(nodes))
    for node, weight in seeds.items():
        if node in position and weight > 0:
            restart[position[node]] = weight
    if not restart.any():
        return {}
    restart /= restart.sum()
    if not sources:
        return {nodes[i]: float(v) for i, v in enumerate(restart) if v > 0}
    src, dst = np.asarray(sources), np.asarray(targets)
    w = np.asarray(weights)
    out = np.bincount(src, weights=w, minlength=len(nodes))
    share = w / out[src]
    rank = restart.copy()
    for _ in range(iterations):
        spread = np.bincount(dst, weights=rank[src] * share, minlength=len(nodes))
        dangling = rank[out == 0].sum()
        rank = alpha * (spread + dangling * restart) + (1 - alpha) * restart
    return {nodes[i]: float(v) for i, v in enumerate(rank) if v > 0}
