"""Patterns inside a loop that are not plain reductions but still parallel: running sums read
by the iteration (scans), max/min updates written as ``if``s or calls, first-match searches
and argmin/argmax, and running maxima kept in an array (``out[i]`` from ``out[i - 1]``)."""

from __future__ import annotations

import re

from ellora.tools.cpp_syntax import normalized, subscript_parts, text, walk


def scan_kind(body, name: str, writes, reads, var: str) -> str | None:
    """'inclusive' or 'exclusive' for ``{ ...; s += e; out[i] = f(s); }`` (or the uses
    before the update): one top-level update, and every other read of ``s`` in a top-level
    ``array[i] = ...`` on one side of it; otherwise None."""
    if body.type != "compound_statement" or len(writes) != 1:
        return None
    update = writes[0]
    statements = [c for c in body.named_children if c.type != "comment"]
    if update.parent not in statements or mentions(update.child_by_field_name("right"), name):
        return None
    position = statements.index(update.parent)
    sides = set()
    for read in reads:
        statement = next((s for s in statements if s.start_byte <= read.start_byte < s.end_byte),
                         None)
        if statement is None or statement == update.parent:
            return None
        expression = statement.named_children[0] if statement.named_children else None
        if (
            statement.type != "expression_statement"
            or expression is None
            or expression.type != "assignment_expression"
            or text(expression.child(1)) != "="
        ):
            return None
        target = expression.child_by_field_name("left")
        if target.type != "subscript_expression" or subscript_parts(target)[1] != var:
            return None
        sides.add("inclusive" if statements.index(statement) > position else "exclusive")
    return sides.pop() if len(sides) == 1 else None


_EXTREMUM_CALLS = {
    "std::max": "max", "max": "max", "std::fmax": "max", "fmax": "max",
    "std::min": "min", "min": "min", "std::fmin": "min", "fmin": "min",
}


def extremum_operator(name: str, writes, reads) -> str | None:
    """'max' or 'min' when every write is ``name = max(name, e)`` or sits in
    ``if (e > name) name = e;`` (no else) and ``name`` is read nowhere else; otherwise None."""
    operators, allowed = set(), set()
    for write in writes:
        if write.type != "assignment_expression" or text(write.child(1)) != "=":
            return None
        value = write.child_by_field_name("right")
        found = _extremum_call(name, value) or _guarded_extremum(name, write, value)
        if found is None:
            return None
        operator, reading = found
        operators.add(operator)
        allowed.add(reading.start_byte)
    if len(operators) != 1 or any(r.start_byte not in allowed for r in reads):
        return None
    return operators.pop()


def _extremum_call(name: str, value):
    """``max(name, e)`` / ``std::fmin(e, name)``: (operator, the read of name) or None."""
    if value.type != "call_expression":
        return None
    function = re.sub(r"<.*>$", "", normalized(value.child_by_field_name("function")))
    arguments = [c for c in value.child_by_field_name("arguments").named_children]
    if function not in _EXTREMUM_CALLS or len(arguments) != 2:
        return None
    mine = [a for a in arguments if a.type == "identifier" and text(a) == name]
    other = [a for a in arguments if a not in mine]
    if len(mine) != 1 or mentions(other[0], name):
        return None
    return _EXTREMUM_CALLS[function], mine[0]


def _guarded_extremum(name: str, write, value):
    """``if (e > name) name = e;`` (also <, >=, <=, either side): (operator, read) or None."""
    if mentions(value, name):
        return None
    statement = write.parent
    guard = statement.parent if statement is not None else None
    if guard is not None and guard.type == "compound_statement":
        guard = guard.parent
    if guard is None or guard.type != "if_statement":
        return None
    condition = _else_free_condition(guard)
    if condition is None or condition.type != "binary_expression":
        return None
    left, right = condition.child_by_field_name("left"), condition.child_by_field_name("right")
    operator = text(condition.child(1))
    if operator not in ("<", "<=", ">", ">="):
        return None
    if normalized(right) == name and normalized(left) == normalized(value):
        mine, greater = right, operator in (">", ">=")
    elif normalized(left) == name and normalized(right) == normalized(value):
        mine, greater = left, operator in ("<", "<=")
    else:
        return None
    return ("max" if greater else "min"), mine


def mentions(node, name: str) -> bool:
    return any(n.type == "identifier" and text(n) == name for n in walk(node))


def _else_free_condition(if_statement):
    """The condition expression of an ``if`` without ``else`` (parentheses removed), or
    None when the ``if`` has an ``else``."""
    if if_statement.child_by_field_name("alternative") is not None:
        return None
    condition = if_statement.child_by_field_name("condition")
    while condition is not None and condition.type in (
        "condition_clause", "parenthesized_expression"
    ):
        condition = condition.child_by_field_name("value") or condition.named_children[0]
    return condition


def _only_statement(body):
    """The single statement of a loop body (through one level of braces), or None."""
    if body.type != "compound_statement":
        return body
    statements = [c for c in body.named_children if c.type != "comment"]
    return statements[0] if len(statements) == 1 else None


def _guarded(statement):
    """(condition, consequence statement) of ``if (c) s;`` / ``if (c) { s; }`` without else."""
    if statement is None or statement.type != "if_statement":
        return None
    condition = _else_free_condition(statement)
    inner = _only_statement(statement.child_by_field_name("consequence"))
    return (condition, inner) if condition is not None and inner is not None else None


def first_match(body, var: str) -> dict | None:
    """``for (...) if (c) return r;``: the loop looks for the first ``var`` where ``c`` holds.
    Returns {"condition", "result", "node"} (node: the return statement) or None."""
    guarded = _guarded(_only_statement(body))
    if guarded is None:
        return None
    condition, inner = guarded
    if inner.type != "return_statement" or not inner.named_children:
        return None
    return {"condition": text(condition), "result": text(inner.named_children[0]),
            "node": inner}


def _substitute(expression: str, old: str, new: str) -> str:
    return re.sub(rf"\b{re.escape(old)}\b", new, expression)


def locate_operator(body, name: str, writes, reads, var: str) -> dict | None:
    """``if (key(i) < key(best)) best = i;`` as the whole body: an argmin (argmax with >)
    that keeps the first index. Returns {"operator", "key"} with key written in ``var``."""
    guarded = _guarded(_only_statement(body))
    if guarded is None or len(writes) != 1:
        return None
    condition, inner = guarded
    write = writes[0]
    if (
        inner.type != "expression_statement"
        or write.parent != inner
        or text(write.child(1)) != "="
        or normalized(write.child_by_field_name("right")) != var
        or condition.type != "binary_expression"
    ):
        return None
    operator = text(condition.child(1))
    left, right = condition.child_by_field_name("left"), condition.child_by_field_name("right")
    if operator not in ("<", ">"):
        return None
    for mine, theirs, smaller in ((left, right, operator == "<"), (right, left, operator == ">")):
        key = normalized(mine)
        if (
            mentions(mine, var)
            and not mentions(mine, name)
            and normalized(theirs) == _substitute(key, var, name)
            and all(theirs.start_byte <= r.start_byte < theirs.end_byte for r in reads)
        ):
            return {"operator": "min" if smaller else "max", "key": text(mine)}
    return None


_RUNNING_CALLS = {"std::max": ">", "max": ">", "std::min": "<", "min": "<"}


def _bare(node):
    while node is not None and node.type == "parenthesized_expression":
        node = node.named_children[0] if node.named_children else None
    return node


def running_extremum(loop, array: str, accesses, var: str, lower: str) -> dict | None:
    """The recurrence's parts when the loop body is exactly ``A[var] = E;`` with E a running
    max/min of A[var - 1] and a value that does not read A; else None."""
    body = loop.child_by_field_name("body")
    statements = [c for c in body.named_children if c.type != "comment"] \
        if body.type == "compound_statement" else [body]
    writes = [a for a in accesses if a.is_write]
    if len(statements) != 1 or len(writes) != 1 or statements[0].type != "expression_statement":
        return None
    assignment = writes[0].node
    if assignment.parent != statements[0] or assignment.type != "assignment_expression" or \
            text(assignment.child(1)) != "=" or writes[0].index != var:
        return None
    previous = f"{array}[{var}-1]"
    reads = [a for a in accesses if not a.is_write]
    if not reads or any(a.index != f"{var}-1" for a in reads):
        return None
    expression = _bare(assignment.child_by_field_name("right"))
    parts = _conditional(expression, previous, var, lower, array) if expression is not None \
        and expression.type == "conditional_expression" else _call(expression, previous, array)
    if parts is None:
        return None
    value, compare, first_rule = parts
    return {
        "array": array, "value": value, "compare": compare, "first_rule": first_rule,
        "expression": text(assignment.child_by_field_name("right")),
        "previous": text(next(a.node for a in reads)),
        "operator": "max" if compare in (">", ">=") else "min",
    }


def _conditional(node, previous: str, var: str, lower: str, array: str):
    condition = _bare(node.child_by_field_name("condition"))
    taken = node.child_by_field_name("consequence")
    kept = node.child_by_field_name("alternative")
    if taken is None or kept is None or normalized(kept) != previous:
        return None
    value = text(taken)
    if re.search(rf"\b{re.escape(array)}\b", value):
        return None
    first_rule = False
    if condition.type == "binary_expression" and text(condition.child(1)) == "||":
        first = _bare(condition.child_by_field_name("left"))
        if normalized(first) not in (f"{var}=={lower}", f"{lower}=={var}"):
            return None
        first_rule, condition = True, _bare(condition.child_by_field_name("right"))
    if condition is None or condition.type != "binary_expression":
        return None
    left, right = normalized(condition.child_by_field_name("left")), normalized(
        condition.child_by_field_name("right"))
    operator = text(condition.child(1))
    flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
    if operator not in flipped:
        return None
    if left == normalized(taken) and right == previous:
        return value, operator, first_rule
    if right == normalized(taken) and left == previous:
        return value, flipped[operator], first_rule
    return None


def _call(node, previous: str, array: str):
    if node is None or node.type != "call_expression":
        return None
    name = normalized(node.child_by_field_name("function"))
    arguments = [a for a in node.child_by_field_name("arguments").named_children
                 if a.type != "comment"]
    if name not in _RUNNING_CALLS or len(arguments) != 2 or normalized(arguments[0]) != previous:
        return None
    value = text(arguments[1])  # std::max(prev, v) = (prev < v) ? v : prev
    if re.search(rf"\b{re.escape(array)}\b", value):
        return None
    return value, _RUNNING_CALLS[name], False
