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

Also locals that only ever hold their first value or a loop's variable (``best = i`` in an
argmin loop): they stay inside the hull of those ranges.
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
            return _Range(_lowest(state.lower, value, state.requirements), _highest(
                bound - (ONE if op == ">=" else Poly()), value, state.requirements),
                state.requirements)
        if op in ("<", "<="):  # v >= min(bound + (op is <=), value)
            return _Range(_lowest(bound + (ONE if op == "<=" else Poly()), value,
                                  state.requirements),
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
        own = [a for a in arguments if normalized(strip(a)) == name] if name else []
        if not own:  # min(e, U) of any e: the argument that is not computed from data
            own = [a for a in arguments if not _bound_like(reader.read(a), reader)]
            state = _Range(None, None, state.requirements)
        if len(own) != 1:
            return None
        bound = reader.read(next(a for a in arguments if a is not own[0]))
    if function == "min":
        return _Range(_lowest(state.lower, bound, state.requirements), bound,
                      state.requirements)
    return _Range(bound, _highest(state.upper, bound, state.requirements), state.requirements)


def _bound_like(poly: Poly, reader: ExpressionReader) -> bool:
    """A bound (a constant, a name, a size), not a value computed from elements."""
    for symbol in poly.symbols():
        atom = reader.atoms.get(symbol)
        if atom is not None and atom.kind not in ("size",):
            return False
    return True


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


def _lowest(a: Poly | None, b: Poly, requirements: list | None = None) -> Poly | None:
    """A lower bound of ``min(a, b)`` (None when ``a`` is unknown): the smaller when the
    difference is constant, else the constant one, with the requirement that it is the
    smaller (None when neither is constant or there is nowhere to put the requirement)."""
    if a is None:
        return None
    difference = (a - b).const_value()
    if difference is not None:
        return a if difference <= 0 else b
    constant = a if a.const_value() is not None else b if b.const_value() is not None \
        else None
    if constant is None or requirements is None:
        return None
    other = b if constant is a else a
    requirements.append((other - constant, "a clamped index's range must not be empty"))
    return constant


def _highest(a: Poly | None, b: Poly, requirements: list) -> Poly | None:
    """An upper bound of ``max(a, b)`` (None when ``a`` is unknown): the larger when the
    difference is constant, else the one that is not a constant, with the requirement that
    it is the larger."""
    if a is None:
        return None
    difference = (a - b).const_value()
    if difference is None:  # keep the one that grows with the sizes, require it is the larger
        larger, smaller = (b, a) if a.const_value() is not None else (a, b)
        requirements.append((larger - smaller, "a clamped index's range must not be empty"))
        return larger
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


def find_hulls(body, reader: ExpressionReader, headers: dict[int, object]) -> dict[str, Clamp]:
    """Locals that only ever hold their initial value or a loop's variable (``best = i`` in
    an argmin): they stay within the hull of those values. ``headers`` maps each counted
    loop's node start to its header."""
    found = {}
    writes: dict[str, list] = {}
    for node in walk(body):
        if node.type in ("assignment_expression", "update_expression"):
            target = node.child_by_field_name("left" if node.type ==
                                              "assignment_expression" else "argument")
            target = strip(target)
            if target is not None and target.type == "identifier":
                writes.setdefault(text(target), []).append(node)
    for node in walk(body):
        if node.type != "declaration":
            continue
        for child in node.children:
            declarator = child.child_by_field_name("declarator") \
                if child.type == "init_declarator" else None
            if declarator is None or declarator.type != "identifier":
                continue
            name = text(declarator)
            hull = _hull(name, reader.read(child.child_by_field_name("value")),
                         writes.get(name, []), headers, reader)
            if hull is not None:
                found[name] = hull
    return found


def _hull(name: str, initial: Poly, writes: list, headers: dict[int, object],
          reader: ExpressionReader) -> Clamp | None:
    if not writes:
        return None
    lows, highs = [initial], [initial]
    for write in writes:
        if write.type != "assignment_expression" or text(write.child(1)) != "=":
            return None
        value = strip(write.child_by_field_name("right"))
        header = _enclosing_header(write, text(value), headers) if value is not None and \
            value.type == "identifier" else None
        if header is None:
            return None
        lows.append(header.lower)
        highs.append(header.upper - ONE)
    requirements: list = []
    lower = lows[0]
    for low in lows[1:]:
        lower = _lowest(lower, low)
        if lower is None:
            return None
    upper = highs[0]
    for high in highs[1:]:
        upper = _highest(upper, high, requirements)
    loop_names = {h.var for h in headers.values()}
    if (reader.atoms.plain_names(lower) | reader.atoms.plain_names(upper)) & loop_names:
        return None  # a bound that moves with an outer loop
    clamp = Clamp(name, lower, upper, requirements)
    why = f"{name} takes values in [{_render(reader, lower)}, {_render(reader, upper)}]"
    clamp.requirements.append((upper - lower, why))
    for poly in (lower, upper):
        clamp.names |= reader.atoms.plain_names(poly)
    return clamp


def _enclosing_header(node, variable: str, headers: dict[int, object]):
    current = node.parent
    while current is not None:
        header = headers.get(current.start_byte)
        if header is not None and current.type == "for_statement" and header.var == variable:
            return header
        current = current.parent
    return None


def clamped_call(node, reader: ExpressionReader) -> Clamp | None:
    """The range of a ``std::clamp(e, L, U)`` or ``std::min(std::max(e, L), U)`` value
    (what a local defined once from it stands for); None for other calls."""
    state = _value_range("", node, reader, _Range(None, None))
    if state is None or state.lower is None or state.upper is None:
        return None
    clamp = Clamp(normalized(node), state.lower, state.upper, state.requirements)
    clamp.requirements.append((state.upper - state.lower,
                               f"{' '.join(text(node).split())} needs a non-empty range"))
    return clamp
