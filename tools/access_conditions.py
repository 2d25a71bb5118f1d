"""The comparisons that hold whenever an access runs, read from the conditions around it.

A boundary-conditioned stencil reads ``in[(i - 1) * n + j]`` only in the branch where
``i != 0``; bounding that subscript over the whole loop range reaches one row before the
array, which the run-time overlap check then counts as touched. The comparisons collected
here (``i != 0``, ``r >= 0``, ``r < n``) narrow the range the check assumes for that one
access. Only comparisons that certainly hold are kept: the branch's own condition (a
conjunction), the negation of an else-branch's condition (a disjunction), the left side of
``&&``; anything else is dropped, which only loses precision.
"""

from __future__ import annotations

from ellora.tools.cpp_syntax import text, walk

_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_WRAPPERS = ("parenthesized_expression", "condition_clause")


def holding_comparisons(node, loop) -> list[tuple[str, str, str]]:
    """(left, operator, right) comparisons (whitespace removed) true whenever ``node`` runs
    inside ``loop``; names of loops nested between the condition and the access are left
    out (they are other variables at the condition)."""
    found: list[tuple[str, str, str]] = []
    inner_names: set[str] = set()
    child, parent = node, node.parent
    while parent is not None and child != loop:
        condition, negate = None, False
        if parent.type in ("if_statement", "conditional_expression"):
            condition = parent.child_by_field_name("condition")
            alternative = parent.child_by_field_name("alternative")
            if _same(child, parent.child_by_field_name("consequence")):
                negate = False
            elif alternative is not None and _contains(alternative, child):
                negate = True
            else:
                condition = None
        elif parent.type == "binary_expression" and _same(
                child, parent.child_by_field_name("right")):
            operator = text(parent.child(1))
            if operator in ("&&", "||"):
                condition, negate = parent.child_by_field_name("left"), operator == "||"
        elif parent.type == "for_statement":
            initializer = parent.child_by_field_name("initializer")
            if initializer is not None:
                inner_names.update(_declared_names(initializer))
                if initializer.type == "assignment_expression":
                    inner_names.add(text(initializer.child_by_field_name("left")).strip())
        if condition is not None:
            found += [
                c for c in _comparisons(condition, negate)
                if not (inner_names & set(_names(c[0] + " " + c[2])))
                and not _declared_after(parent, c, loop)
            ]
        child, parent = parent, parent.parent
    return found


def _same(a, b) -> bool:
    return b is not None and a.start_byte == b.start_byte and a.end_byte == b.end_byte


def _contains(outer, inner) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _comparisons(node, negate: bool) -> list[tuple[str, str, str]]:
    while node.type in _WRAPPERS:
        named = [c for c in node.named_children if c.type != "comment"]
        if len(named) != 1:
            return []
        node = named[0]
    if node.type == "unary_expression" and text(node.child(0)) == "!":
        return _comparisons(node.child_by_field_name("argument"), not negate)
    if node.type != "binary_expression":
        return []
    operator = text(node.child(1))
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if (operator == "&&" and not negate) or (operator == "||" and negate):
        return _comparisons(left, negate) + _comparisons(right, negate)
    if operator in _NEGATED:
        return [("".join(text(left).split()), _NEGATED[operator] if negate else operator,
                 "".join(text(right).split()))]
    return []


def _names(expression: str) -> list[str]:
    import re

    return re.findall(r"\b[A-Za-z_]\w*\b", expression)


def _declared_names(node) -> set[str]:
    return {text(n.child_by_field_name("declarator")) for n in walk(node)
            if n.type == "init_declarator" and n.child_by_field_name("declarator") is not None}


def _declared_after(condition_owner, comparison, loop) -> bool:
    """Whether a name of the comparison is declared inside the loop at or after the
    condition (then the condition saw another variable of that name)."""
    names = set(_names(comparison[0] + " " + comparison[2]))
    body = loop.child_by_field_name("body")
    for node in walk(body):
        if node.type == "init_declarator" and node.start_byte >= condition_owner.start_byte:
            declarator = node.child_by_field_name("declarator")
            if declarator is not None and text(declarator) in names:
                return True
    return False
