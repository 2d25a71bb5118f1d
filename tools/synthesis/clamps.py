"""Locals clamped into a range before they are used as indices:

    int b = (int)((x[i] + 1.0) * 0.5 * nbins);
    if (b >= nbins) b = nbins - 1;
    if (b < 0) b = 0;
    bins[b] += 1;

Whatever ``b`` was computed from, after the two tests it lies in ``[0, nbins - 1]`` (when
``nbins >= 1``, which becomes a requirement of the domain). Recognized: ``if (v >= U) v = W;``
(also ``>``, ``<``, ``<=``, braces allowed), ``v = std::min(v, U)`` / ``std::max(v, L)``,
and ``std::clamp(e, L, U)`` / ``std::min(std::max(e, L), U)`` as the value, when every other
write of ``v`` is one of these, they follow its declaration in one block, and every read of
``v`` comes after the last of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ellora.tools.loops.cpp.reader import ExpressionReader, comparison_parts, normalized, strip
from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.expr import ONE, Poly


@dataclass
class Clamp:
    """``lower <= v <= upper`` wherever ``v`` is read; ``requirements`` (poly >= 0) make the
    two ends consistent."""

    name: str
    lower: Poly
    upper: Poly
    requirements: list[tuple[Poly, str]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # plain names the bounds read


def find_clamps(body, reader: ExpressionReader) -> dict[str, Clamp]:
    """The clamped locals of a function body."""
    found = {}
    for node in walk(body):
        if node.type != "declaration":
            continue
        for child in node.children:
            if child.type == "init_declarator" and child.child_by_field_name(
                    "declarator").type == "identifier":
                name = text(child.child_by_field_name("declarator"))
                clamp = _clamp_of(name, node, child.child_by_field_name("value"), body, reader)
                if clamp is not None:
                    found[name] = clamp
    return found


def _clamp_of(name: str, declaration, value, body, reader) -> Clamp | None:
    block = declaration.parent
    if block is None or block.type != "compound_statement":
        return None
    state = _Range(None, None)
    if value is not None:
        state = _value_range(name, value, reader, state) or state
    statements = [c for c in block.named_children if c.start_byte > declaration.start_byte]
    writes = _writes_of(name, body)
    used = 0
    last = declaration.end_byte
    for statement in statements:
        step = _clamp_step(name, statement, reader, state)
        if step is None:
            break
        state, last, used = step, statement.end_byte, used + 1
    clamp_writes = [w for w in writes if declaration.end_byte <= w.start_byte < last]
    if used == 0 or len(clamp_writes) != len(writes) or state.lower is None or \
            state.upper is None:
        return None
    if any(n.start_byte < last and n.start_byte >= declaration.end_byte
           and not _inside_clamp(n, block, last) for n in _reads_of(name, body)):
        return None
    clamp = Clamp(name, state.lower, state.upper, state.requirements)
    why = (f"{name} is clamped to [{_render(reader, state.lower)}, "
           f"{_render(reader, state.upper)}], which must not be empty")
    clamp.requirements.append((state.upper - state.lower, why))
    for poly in (state.lower, state.upper):
        clamp.names |= reader.atoms.plain_names(poly)
    return clamp


@dataclass
class _Range:
    lower: Poly | None
    upper: Poly | None
    requirements: list = field(default_factory=list)


def _clamp_step(name: str, statement, reader, state: _Range) -> _Range | None:
    """The range after one clamping statement, or None when it is not one."""
    if statement.type == "if_statement" and statement.child_by_field_name("alternative") is None:
        condition = statement.child_by_field_name("condition")
        inner = [c for c in condition.named_children if c.type != "comment"]
        parts = comparison_parts(inner[-1]) if inner else None
        assigned = _single_assignment(name, statement.child_by_field_name("consequence"))
        if parts is None or assigned is None:
            return None
        left, op, right = parts
        if normalized(strip(right)) == name:
            left, right = right, left
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op)
        if normalized(strip(left)) != name or op is None:
            return None
        bound, value = reader.read(right), reader.read(assigned)
        if op in (">=", ">"):  # v <= max(bound - (op is >=), value)
            return _Range(_lowest(state.lower, value), _highest(
                bound - (ONE if op == ">=" else Poly()), value, state.requirements),
                state.requirements)
        if op in ("<", "<="):  # v >= min(bound + (op is <=), value)
            return _Range(_lowest(bound + (ONE if op == "<=" else Poly()), value),
                          _highest(state.upper, value, state.requirements), state.requirements)
        return None
    if statement.type == "expression_statement":
        expression = statement.named_children[0] if statement.named_children else None
        if expression is None or expression.type != "assignment_expression" or \
                normalized(expression.child_by_field_name("left")) != name or \
                text(expression.child(1)) != "=":
            return None
        return _value_range(name, expression.child_by_field_name("right"), reader, state)
    return None


def _value_range(name: str, value, reader, state: _Range) -> _Range | None:
    """``std::min(v, U)``, ``std::max(v, L)``, ``std::clamp(e, L, U)``,
    ``std::min(std::max(e, L), U)`` (and max of min)."""
    call = _call_parts(value)
    if call is None:
        return None
    function, arguments = call
    if function == "clamp" and len(arguments) == 3:
        return _Range(reader.read(arguments[1]), reader.read(arguments[2]), state.requirements)
    if function not in ("min", "max") or len(arguments) != 2:
        return None
    inner = next((a for a in arguments if _call_parts(a) is not None), None)
    other = next((a for a in arguments if a is not inner), None) if inner is not None else None
    if inner is not None:
        nested = _value_range(name, inner, reader, _Range(None, None, state.requirements))
        if nested is None:
            return None
        state = nested
        bound = reader.read(other)
    else:
        own = [a for a in arguments if normalized(strip(a)) == name]
        if len(own) != 1:
            return None
        bound = reader.read(next(a for a in arguments if a is not own[0]))
    if function == "min":
        return _Range(_lowest(state.lower, bound), bound, state.requirements)
    return _Range(bound, _highest(state.upper, bound, state.requirements), state.requirements)


def _call_parts(node):
    node = strip(node)
    if node is None or node.type != "call_expression":
        return None
    function = re.sub(r"<.*>", "", normalized(node.child_by_field_name("function")))
    short = function.removeprefix("std::")
    if short not in ("min", "max", "clamp"):
        return None
    arguments = node.child_by_field_name("arguments")
    return short, [a for a in arguments.named_children if a.type != "comment"]


def _lowest(a: Poly | None, b: Poly) -> Poly | None:
    """A lower bound of ``min(a, b)`` when one is provably the smaller (else None)."""
    if a is None:
        return None
    difference = (a - b).const_value()
    if difference is None:
        return None
    return a if difference <= 0 else b


def _highest(a: Poly | None, b: Poly, requirements: list) -> Poly:
    """An upper bound of ``max(a, b)`` (``a`` unknown: the value is at most ``b`` after the
    step that sets it): the larger when the difference is constant, else ``a`` with the
    requirement ``a >= b``."""
    if a is None:
        return b
    difference = (a - b).const_value()
    if difference is None:
        requirements.append((a - b, "a clamped index's range must not be empty"))
        return a
    return a if difference >= 0 else b


def _single_assignment(name: str, consequence):
    if consequence is None:
        return None
    if consequence.type == "compound_statement":
        statements = [c for c in consequence.named_children if c.type != "comment"]
        if len(statements) != 1:
            return None
        consequence = statements[0]
    if consequence.type != "expression_statement" or not consequence.named_children:
        return None
    expression = consequence.named_children[0]
    if expression.type == "assignment_expression" and text(expression.child(1)) == "=" and \
            normalized(expression.child_by_field_name("left")) == name:
        return expression.child_by_field_name("right")
    return None


def _writes_of(name: str, body) -> list:
    writes = []
    for node in walk(body):
        target = None
        if node.type == "assignment_expression":
            target = node.child_by_field_name("left")
        elif node.type == "update_expression":
            target = node.child_by_field_name("argument")
        if target is not None and normalized(strip(target)) == name:
            writes.append(node)
    return writes


def _reads_of(name: str, body) -> list:
    return [n for n in walk(body) if n.type == "identifier" and text(n) == name]


def _inside_clamp(node, block, last: int) -> bool:
    """A read inside one of the clamping statements themselves."""
    current = node
    while current is not None and current.parent != block:
        current = current.parent
    return current is not None and current.end_byte <= last


def _render(reader: ExpressionReader, poly: Poly) -> str:
    return reader.atoms.render(poly)
