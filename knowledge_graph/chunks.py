"""Chunks at syntax boundaries: a function, a class (or a large class's head and members), a
group of small neighbouring definitions, each with the doc comment above it.

Planning needs only the facts (so the graph can map definitions to chunks without the text);
:func:`chunk_texts` adds the text the embedder reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from ellora.knowledge_graph.parse import Definition, FileFacts

CONTAINER_KINDS = {"class", "struct"}


@dataclass
class ChunkPlan:
    """A line range of a file and the definitions it covers."""

    start: int
    end: int
    definitions: list[int]

    def chunk_id(self, repository: str, path: str) -> str:
        return f"{repository}/{path}:{self.start}-{self.end}"


def plan_chunks(facts: FileFacts, max_lines: int, min_lines: int) -> list[ChunkPlan]:
    """Chunks of a file, in line order; a file without definitions is one chunk (or several
    ``max_lines`` windows)."""
    defs = facts.definitions
    order = [i for _, _, i in sorted((d.doc_start, -d.end, i) for i, d in enumerate(defs)
                                     if d.kind != "namespace")]
    if not order:
        return [ChunkPlan(s, min(s + max_lines - 1, facts.lines), [])
                for s in range(1, max(facts.lines, 1) + 1, max_lines)]
    children = _children(defs, order)
    units: list[ChunkPlan] = []
    for index in children[-1]:
        _units_of(index, defs, children, max_lines, units)
    return _merge(units, min_lines, max_lines)


def _children(defs: list[Definition], order: list[int]) -> dict[int, list[int]]:
    """Containment tree of definitions by line range; key -1 holds the top level."""
    tree: dict[int, list[int]] = {-1: []}
    stack: list[int] = []
    for index in order:
        current = defs[index]
        while stack and defs[stack[-1]].end < current.doc_start:
            stack.pop()
        while stack and defs[stack[-1]].end < current.end:
            stack.pop()
        tree.setdefault(stack[-1] if stack else -1, []).append(index)
        tree.setdefault(index, [])
        stack.append(index)
    return tree


def _descendants(index: int, children: dict[int, list[int]]) -> list[int]:
    if not children.get(index):
        return [index]
    found, pending = [], [index]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, ()))
    return sorted(found)


def _units_of(index: int, defs: list[Definition], children: dict[int, list[int]],
              max_lines: int, units: list[ChunkPlan]) -> None:
    definition = defs[index]
    span = definition.end - definition.doc_start + 1
    members = children.get(index, [])
    if span <= max_lines or definition.kind not in CONTAINER_KINDS or not members:
        units.append(ChunkPlan(definition.doc_start, definition.end,
                               _descendants(index, children)))
        return
    head_end = min(defs[members[0]].doc_start - 1, definition.doc_start + max_lines - 1)
    units.append(ChunkPlan(definition.doc_start, max(head_end, definition.start), [index]))
    for member in members:
        _units_of(member, defs, children, max_lines, units)


def _merge(units: list[ChunkPlan], min_lines: int, max_lines: int) -> list[ChunkPlan]:
    """Join runs of small adjacent units (prototypes, one-line members, macros)."""
    merged: list[ChunkPlan] = []
    for unit in units:
        last = merged[-1] if merged else None
        if (last is not None and last.end - last.start + 1 < min_lines
                and unit.start - last.end <= 2 and unit.end - last.start + 1 <= max_lines
                and unit.start > last.end):
            last.end = max(last.end, unit.end)
            last.definitions.extend(unit.definitions)
        else:
            merged.append(unit)  # units are fresh (from _units_of): no copy needed
    return merged


def chunk_texts(plans: list[ChunkPlan], facts: FileFacts, text: str, repository: str,
                max_chars: int) -> list[tuple[str, str]]:
    """(document, embedding text) per chunk: the code lines, and the same headed by the file
    and the qualified names it defines, cut to ``max_chars``."""
    lines = text.splitlines()
    out = []
    for plan in plans:
        body = "\n".join(lines[plan.start - 1:plan.end])
        defs = [facts.definitions[i] for i in plan.definitions]
        names = list(dict.fromkeys([defs[0].qualified, *(d.name for d in defs[1:])]))[:8] \
            if defs else []
        header = f"{repository} {facts.path}: {', '.join(names)}" if names else (
            f"{repository} {facts.path}")
        out.append((body, f"{header}\n{body}"[:max_chars]))
    return out
