"""Running values kept in an array: ``A[i] = A[i - 1] + x[i]`` (a prefix sum),
``A[i] = std::max(A[i - 1], v)`` and ``A[i] = (c > A[i - 1]) ? c : A[i - 1]`` (running
max/min), with an optional first rule (``i == lo ? v : ...``). Each is an associative fold,
so a two-pass block scan computes it exactly (sums reassociated)."""

from __future__ import annotations

from ellora.tools.loops.cpp.reader import normalized, strip
from ellora.tools.loops.cpp.scope import text
from ellora.tools.loops.expr import ONE, Poly
from ellora.tools.loops.legality.verdict import Recurrence
from ellora.tools.loops.model import Access, LoopModel

_CALLS = {"std::max": "max", "max": "max", "std::fmax": "max", "fmax": "max",
          "std::min": "min", "min": "min", "std::fmin": "min", "fmin": "min"}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


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
            model.header.descending:
        return None
    if any(r.indices != (var - ONE,) or r.loops for r in reads):
        return None
    statements = [c for c in model.body.named_children if c.type != "comment"] \
        if model.body.type == "compound_statement" else [model.body]
    if len(statements) != 1 or statements[0] != write.statement:
        return None
    previous = normalized(reads[0].node)
    value = strip(write.value)
    if value is None:
        return None
    found = _fold(value, previous, base, model)
    if found is None:
        return None
    operator, folded, first_rule, compare = found
    return Recurrence(base, operator, folded, write.statement, first_rule, compare)


def _fold(node, previous: str, base: str, model: LoopModel):
    if node.type == "binary_expression" and text(node.child(1)) in ("+", "*"):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        for mine, other in ((left, right), (right, left)):
            if normalized(strip(mine)) == previous and not _reads(other, base):
                return ("+" if text(node.child(1)) == "+" else "*"), other, False, ""
        return None
    if node.type == "call_expression":
        name = normalized(node.child_by_field_name("function"))
        arguments = [a for a in node.child_by_field_name("arguments").named_children
                     if a.type != "comment"]
        if name in _CALLS and len(arguments) == 2 and normalized(arguments[0]) == previous \
                and not _reads(arguments[1], base):
            return _CALLS[name], arguments[1], False, ">" if _CALLS[name] == "max" else "<"
        return None
    if node.type == "conditional_expression":
        return _conditional(node, previous, base, model)
    return None


def _conditional(node, previous: str, base: str, model: LoopModel):
    condition = strip(node.child_by_field_name("condition"))
    taken, kept = node.child_by_field_name("consequence"), node.child_by_field_name(
        "alternative")
    if taken is None or kept is None or normalized(kept) != previous or _reads(taken, base):
        return None
    first_rule = False
    if condition.type == "binary_expression" and text(condition.child(1)) == "||":
        first = strip(condition.child_by_field_name("left"))
        lower = model.header.lower_text.replace(" ", "")
        if normalized(first) not in (f"{model.header.var}=={lower}",
                                     f"{lower}=={model.header.var}"):
            return None
        first_rule, condition = True, strip(condition.child_by_field_name("right"))
    if condition is None or condition.type != "binary_expression":
        return None
    operator = text(condition.child(1))
    if operator not in _FLIP:
        return None
    left = normalized(condition.child_by_field_name("left"))
    right = normalized(condition.child_by_field_name("right"))
    if left == normalized(taken) and right == previous:
        compare = operator
    elif right == normalized(taken) and left == previous:
        compare = _FLIP[operator]
    else:
        return None
    return ("max" if compare in (">", ">=") else "min"), taken, first_rule, compare


def _reads(node, base: str) -> bool:
    from ellora.tools.loops.legality.scalars import mentions

    return mentions(node, base)
