"""Running values kept in an array: ``A[i] = A[i - 1] + x[i]`` (a prefix sum),
``A[i] = std::max(A[i - 1], v)`` and ``A[i] = (c > A[i - 1]) ? c : A[i - 1]`` (running
max/min), with an optional first rule (``i == lo ? v : ...``). Each is an associative fold,
so a two-pass block scan computes it exactly (sums reassociated). Read from the model's
terms, so every front end gets the same rule."""

from __future__ import annotations

from ellora.tools.loops.expr import ONE, Poly
from ellora.tools.loops.legality.scalars import EXTREMUM_CALLS
from ellora.tools.loops.legality.verdict import Recurrence
from ellora.tools.loops.model import Access, LoopModel
from ellora.tools.loops.terms import FLIPPED, Term


def running_value(model: LoopModel, base: str, accesses: list[Access]) -> Recurrence | None:
    """The recurrence when the body is exactly one ``base[var] = f(base[var - 1], v)``."""
    var = Poly.symbol(model.header.var)
    writes = [a for a in accesses if a.writes]
    reads = [a for a in accesses if not a.writes]
    if len(writes) != 1 or not reads or len(writes[0].indices) != 1:
        return None
    write = writes[0]
    if write.mode != "write" or write.operator != "=" or write.indices[0] != var or \
            write.loops or write.conditional or not model.header.unit_step or \
            model.header.descending or write.term is None:
        return None
    if any(r.indices != (var - ONE,) or r.loops for r in reads):
        return None
    if len(model.top_statements) != 1 or write.top_index != 0:
        return None
    previous = _previous_key(reads[0])
    found = _fold(write.term, previous, base, model)
    if found is None:
        return None
    operator, folded, first_rule, compare = found
    return Recurrence(base, operator, folded.node, write.statement, first_rule, compare)


class _Previous:
    """Matches the term of the element the loop read one iteration back (``A[i - 1]`` in
    either language: a load of the base at the read's own subscript)."""

    def __init__(self, read: Access):
        self.base = read.base
        self.index = "".join(read.texts[0].split())

    def matches(self, term: Term) -> bool:
        return term.kind == "load" and term.op == self.base and len(term.args) == 1 and \
            term.args[0].key == self.index


def _previous_key(read: Access) -> _Previous:
    return _Previous(read)


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
        var, lower = model.header.var, "".join(model.header.lower_text.split())
        sides = first.comparison()
        if sides is None or sides[1] != "==" or {sides[0].key, sides[2].key} != {var, lower}:
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
