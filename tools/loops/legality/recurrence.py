"""Running values kept in an array: ``A[i] = A[i - 1] + x[i]`` (a prefix sum),
``A[i] = std::max(A[i - 1], v)`` and ``A[i] = (c > A[i - 1]) ? c : A[i - 1]`` (running
max/min). Each is an associative fold, so a two-pass block scan computes it exactly (sums
reassociated). Read from the model's terms, so every front end gets the same rule.

The first element may have its own value, given by a test that holds at the first iteration
only: ``A[i] = (i == lo) ? v : A[i - 1] + x[i]``, or the same as an ``if``/``else`` whose
branches each assign ``A[i]`` (``if (i == 0) A[i] = x[i]; else A[i] = A[i - 1] + x[i];``,
also ``i > lo`` / ``i != lo`` with the branches swapped). Statements after the recurrence
may read the element just written (``sum += A[i]``) and do anything else the other rules
allow; declarations may come before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ellora.tools.loops.expr import ONE, Poly
from ellora.tools.loops.legality.scalars import EXTREMUM_CALLS
from ellora.tools.loops.legality.verdict import Recurrence
from ellora.tools.loops.model import Access, LoopModel
from ellora.tools.loops.terms import FLIPPED, Term


@dataclass(frozen=True)
class _Assignment:
    """How the loop computes ``A[var]``: ``fold`` from the previous element, ``first`` (or
    None) at the first iteration; ``statement`` is the loop body statement holding it."""

    fold: Term
    first: Term | None
    statement: object
    top_index: int


def running_value(model: LoopModel, base: str, accesses: list[Access]) -> Recurrence | None:
    """The recurrence when ``base[var]`` is computed from ``base[var - 1]`` by one fold."""
    if not model.header.unit_step or model.header.descending:
        return None
    var = Poly.symbol(model.header.var)
    assignment = _assignment(model, [a for a in accesses if a.writes], var)
    if assignment is None:
        return None
    reads = [a for a in accesses if not a.writes]
    previous = [r for r in reads if r.indices == (var - ONE,)]
    if not previous or any(r.loops or r.top_index != assignment.top_index for r in previous):
        return None
    # later statements may read the element this iteration wrote, nothing else of base
    if any(r.indices != (var,) or r.top_index <= assignment.top_index
           for r in reads if r not in previous):
        return None
    if any(kind != "declaration" for kind in model.top_statements[:assignment.top_index]):
        return None
    found = _fold(assignment.fold, _Previous(previous[0]), base, model)
    if found is None or (assignment.first is not None and assignment.first.mentions(base)):
        return None
    operator, folded, first_rule, compare = found
    return Recurrence(base, operator, folded.node, assignment.statement, first_rule, compare,
                      fold=assignment.fold, first=assignment.first,
                      alone=len(model.top_statements) == 1,
                      previous=tuple((r.node.start_byte, r.node.end_byte) for r in previous))


def _assignment(model: LoopModel, writes: list[Access], var: Poly) -> _Assignment | None:
    if not writes or any(w.mode != "write" or w.operator != "=" or w.indices != (var,) or
                         w.loops or w.term is None for w in writes):
        return None
    if len(writes) == 1:
        [write] = writes
        if write.conditional:
            return None
        value, first = write.term, None
        if value.kind == "select":
            condition, taken, kept = value.args
            at_first = _first_iteration_test(condition, model)
            if at_first is not None:
                value, first = (kept, taken) if at_first else (taken, kept)
        return _Assignment(value, first, write.statement, write.top_index)
    if len(writes) != 2:
        return None
    guards = [w.guard for w in writes]
    if any(g is None or not g.top_level or not g.has_else or not g.sole for g in guards) or \
            guards[0].span != guards[1].span or guards[0].in_else == guards[1].in_else:
        return None
    then, otherwise = sorted(writes, key=lambda w: w.guard.in_else)
    at_first = _first_iteration_test(then.guard.condition, model)
    if at_first is None:
        return None
    first, fold = (then.term, otherwise.term) if at_first else (otherwise.term, then.term)
    return _Assignment(fold, first, then.guard.node, then.top_index)


def _first_iteration_test(condition: Term, model: LoopModel) -> bool | None:
    """True when ``condition`` holds at the loop's first iteration only, False when it holds
    at every other one, None otherwise (``i == lo``, ``i <= lo``; ``i != lo``, ``i > lo``)."""
    parts = condition.comparison()
    if parts is None:
        return None
    left, operator, right = parts
    var, lower = model.header.var, "".join(model.header.lower_text.split())
    if right.key == var and left.key == lower:
        left, operator, right = right, FLIPPED[operator], left
    if left.key != var or right.key != lower:
        return None
    return {"==": True, "<=": True, "!=": False, ">": False}.get(operator)


class _Previous:
    """Matches the term of the element the loop read one iteration back (``A[i - 1]`` in
    either language: a load of the base at the read's own subscript)."""

    def __init__(self, read: Access):
        self.base = read.base
        self.index = "".join(read.texts[0].split())

    def matches(self, term: Term) -> bool:
        return term.kind == "load" and term.op == self.base and len(term.args) == 1 and \
            term.args[0].key == self.index


def _fold(value: Term, previous: _Previous, base: str, model: LoopModel):
    if value.kind == "binary" and value.op in ("+", "*"):
        left, right = value.args
        for mine, other in ((left, right), (right, left)):
            if previous.matches(mine) and not other.mentions(base):
                return value.op, other, False, ""
        return None
    if value.kind == "call" and value.op in EXTREMUM_CALLS and len(value.args) == 2:
        first, second = value.args
        if previous.matches(first) and not second.mentions(base):
            operator = EXTREMUM_CALLS[value.op]
            return operator, second, False, ">" if operator == "max" else "<"
        return None
    if value.kind == "select":
        return _conditional(value, previous, base, model)
    return None


def _conditional(value: Term, previous: _Previous, base: str, model: LoopModel):
    condition, taken, kept = value.args
    if not previous.matches(kept) or taken.mentions(base):
        return None
    first_rule = False
    if condition.kind == "binary" and condition.op == "||":
        first, condition = condition.args
        if _first_iteration_test(first, model) is not True:
            return None
        first_rule = True
    parts = condition.comparison()
    if parts is None:
        return None
    left, operator, right = parts
    if operator not in ("<", "<=", ">", ">="):
        return None
    if left.key == taken.key and previous.matches(right):
        compare = operator
    elif right.key == taken.key and previous.matches(left):
        compare = FLIPPED[operator]
    else:
        return None
    return ("max" if compare in (">", ">=") else "min"), taken, first_rule, compare
