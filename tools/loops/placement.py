"""Where a distributed loop's MPI results go: to every rank, or to rank 0 only.

A task may ask for its results on rank 0 only, which saves the traffic back to the other
ranks. That is sound for a loop's results only when no rank but 0 reads them again: not
when a serial loop around it runs it again (the next step reads what this one wrote), and
not when code between it and a later transformed loop of the function reads them (that
loop's own part on every rank, a scalar it uses, a test around it). Code after the last
transformed loop only turns rank 0's result into the function's (``output = next;``,
``return sum;``): its value on the other ranks is not the task's. A function the file
calls itself (a recursive FFT) returns to a caller that reads its results on every rank:
its loops keep them on every rank. A later loop whose results go to rank 0 as a
scatter-add (``y[k] += v``) updates ``y`` on rank 0 only: the other ranks do not read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ellora.tools.loops.emit.common import Emission, NotEmittable


@dataclass
class Placement:
    """One transformed loop: its line, the lines of its function, whether it is outside
    every loop, what it produces (arrays and scalars it writes), the arrays a rank-0 form
    updates only on rank 0 (scatter-adds), and how to emit it with results on rank 0."""

    line: int
    function: tuple[int, int]
    function_name: str
    outside: bool
    produced: set[str]
    remake: Callable[[], Emission] = field(repr=False)
    root_only_updates: set[str] = field(default_factory=set)
    on_root: bool = False


def produced_by(model) -> set[str]:
    """The names a loop writes (array bases by their variable, scalars declared outside,
    objects it changes through members)."""
    names = {_variable(base) for base in model.written_bases()}
    names |= {call.effect.objects[0] for call in model.calls
              if call.effect.kind == "mutates" and call.effect.objects}  # lists appended to
    return names | {name for name, events in model.scalars.items()
                    if any(e.mode != "read" for e in events)}


def function_lines(model) -> tuple[int, int]:
    """The lines of the function around the loop (first, last)."""
    definition = model.function.definition
    if definition is None:
        return (0, 1 << 30)
    return (definition.start_point[0] + 1, definition.end_point[0] + 1)


def results_on_root(tree, emissions: list[Emission], placements: dict[int, Placement],
                    call_lines: list[int]) -> None:
    """Each function's loops from the last to the first: a loop outside every loop whose
    results no later code of its function reads on the other ranks (and with no parallel
    library call after it) is emitted again with its results on rank 0."""
    by_function: dict[tuple[int, int], list[Emission]] = {}
    for emission in emissions:
        by_function.setdefault(placements[id(emission)].function, []).append(emission)
    called = _called_names(tree)
    for function, group in by_function.items():
        if placements[id(group[0])].function_name in called:
            continue
        later: list[tuple[Emission, Placement]] = []
        for emission in sorted(group, key=lambda e: e.start, reverse=True):
            placement = placements[id(emission)]
            if placement.outside and not any(placement.line < line <= function[1]
                                             for line in call_lines) and \
                    not placement.produced & _read_after(tree, emission.end, later):
                try:
                    again = placement.remake()
                except NotEmittable:
                    again = None
                if again is not None:
                    placement.on_root = True
                    del placements[id(emission)]
                    placements[id(again)] = placement
                    emissions[emissions.index(emission)] = again
                    later.append((emission, placement))
                    continue
            later.append((emission, placement))


def _read_after(tree, start: int, later: list[tuple[Emission, Placement]]) -> set[str]:
    """Variables named from byte ``start`` to the end of the last later transformed loop
    (not the arrays a later rank-0 scatter-add updates on rank 0 only)."""
    names: set[str] = set()
    if not later:
        return names
    until = max(emission.end for emission, _ in later)
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= until:
            continue
        if node.type == "identifier" and node.start_byte >= start:
            name = node.text.decode()
            if not any(e.start <= node.start_byte < e.end and p.on_root and
                       name in p.root_only_updates for e, p in later):
                names.add(name)
        stack.extend(node.children)
    return names


def _called_names(tree) -> set[str]:
    """The names of the functions the file calls (``f(...)``, ``ns::f(...)``)."""
    names: set[str] = set()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            if callee is not None and callee.type in ("identifier", "qualified_identifier"):
                names.add(callee.text.decode().split("::")[-1])
        stack.extend(node.children)
    return names


def _variable(base: str) -> str:
    """``d`` of a member path ``d.x`` or ``d->x``."""
    return base.replace("->", ".").split(".")[0]
