"""Build the :class:`LoopModel` of a Fortran ``do`` loop: one walk over its body records
every element access (one polynomial per dimension, column-major subscripts as coordinates,
array sections as implied loops), scalar event, call and exit, with the conditions, guards
and loops around each. Temporaries every iteration defines before reading them are the
iteration's own (:mod:`ellora.tools.loops.fortran.privates`)."""

from __future__ import annotations

from ellora.tools.loops.cpp.header import NotCounted
from ellora.tools.loops.expr import ONE, Poly
from ellora.tools.loops.fortran.header import DoHeader, do_header, read_control
from ellora.tools.loops.fortran.privates import private_scalars
from ellora.tools.loops.fortran.reader import ExpressionReader
from ellora.tools.loops.fortran.syntax import (
    enclosing_unit,
    loop_body,
    loop_kind,
    lower,
    walk,
)
from ellora.tools.loops.fortran.terms import TermReader
from ellora.tools.loops.fortran.walker import BodyWalker
from ellora.tools.loops.model import FunctionContext, LoopModel, parse_error

_KINDS = {"assignment_statement": "expression", "subroutine_call": "expression",
          "if_statement": "if", "do_loop": "loop", "select_case_statement": "if"}


def build_model(loop, context: FunctionContext) -> LoopModel:
    """The model of a counted ``do`` loop (NotCounted otherwise)."""
    scope = context.scope
    header_info = do_header(loop)
    statements = loop_body(loop)

    def symbol(name: str):
        return scope.lookup(name, loop.start_byte)

    def is_array(name: str) -> bool:
        found = symbol(name)
        return found is not None and found.is_array

    def is_scalar(name: str) -> bool:
        found = symbol(name)
        return found is not None and not found.is_array and not found.constant

    def constant(name: str):
        found = symbol(name)
        return found.value if found is not None and found.constant else None

    def is_integer(name: str) -> bool:
        found = symbol(name)
        return found is not None and found.ftype.base == "integer"

    substitutions: dict[str, object] = {}
    reader = ExpressionReader(context.atoms, is_array, constant,
                              lambda name, node: substitutions.get(name), is_integer)
    line = loop.start_point[0] + 1
    headers = [read_control(c, reader, symbol, line, loop) for c in header_info.controls]
    header = headers[0]
    if header_info.concurrent:
        header.canonical_test = "do concurrent"
    model = LoopModel(header=header, function=context, node=loop, body=loop)
    loop_vars = {h.var for h in headers}
    private, written, writes = private_scalars(loop, statements, is_scalar, loop_vars)
    inner_vars = _inner_loop_vars(loop)
    outside = _used_outside(loop, context.definition, written | inner_vars, scope)
    model.locals = {n for n in private | (inner_vars & written) if n not in outside}
    model.locals |= {s.name for s in scope.declared_in(loop.start_byte, loop.end_byte)}
    model.used_outside = outside & written
    for name in sorted(inner_vars & outside):
        model.obstacles.append(f"{name}, the variable of an inner loop, is read after the "
                               "loop (its final value depends on the order)")
    if header.var in outside and header.var not in model.locals:
        model.obstacles.append(f"the loop variable {header.var} is read after the loop")
    _substitutions(model, writes, statements, reader, substitutions, is_integer)
    model.outer_facts = _enclosing_facts(loop, reader, symbol, model.nonnegative)
    model.top_statements = [_KINDS.get(s.type, "other") for s in statements]
    model.statements = list(statements)
    walker = BodyWalker(model, reader, TermReader(is_array), scope, statements)
    walker.run(headers[1:], header_info)
    model.confined = _confined(loop, context.definition, scope, model.bases)
    syntax = parse_error(loop, "Fortran")
    if syntax:  # named before anything read from the recovered tree
        model.obstacles.insert(0, syntax)
    if header.var in model.scalars:
        model.obstacles.append(f"the loop body modifies the loop variable {header.var}")
        del model.scalars[header.var]
    return model


def _inner_loop_vars(loop) -> set[str]:
    names = set()
    for node in walk(loop):
        if node != loop and node.type == "do_loop" and loop_kind(node) in (
                "do", "do concurrent"):
            try:
                names |= {c.var for c in do_header(node).controls}
            except NotCounted:
                continue
    return names


def _used_outside(loop, unit, names: set[str], scope) -> set[str]:
    """Which of ``names`` a caller or a later statement may see: dummies, the result,
    module and host variables, ``save`` locals, names read after the loop, anywhere in a
    loop around it, or in a procedure the unit contains."""
    found = set()
    for name in names:
        symbol = scope.lookup(name, loop.start_byte)
        if symbol is None:
            continue
        if symbol.where in ("parameter", "result", "global", "host") or \
                "save" in symbol.attributes or symbol.initializer is not None:
            found.add(name)
    outer = _outermost_loop(loop, unit)
    for node in walk(unit):
        if node.type != "identifier":
            continue
        name = lower(node)
        if name not in names or name in found:
            continue
        inside = loop.start_byte <= node.start_byte < loop.end_byte
        after = node.start_byte >= loop.end_byte
        in_outer = outer != loop and outer.start_byte <= node.start_byte < outer.end_byte
        contained = enclosing_unit(node) != unit
        if not inside and (after or in_outer or contained):
            found.add(name)
    return found


def _outermost_loop(loop, unit):
    """The outermost ``do`` of ``unit`` around ``loop`` (``loop`` itself when none is)."""
    outer, current = loop, loop.parent
    while current is not None and current != unit:
        if current.type == "do_loop":
            outer = current
        current = current.parent
    return outer


# where a local array's name may appear outside the loop without being read there
_NAMING_ONLY = ("sized_declarator", "variable_declaration", "sized_allocation",
                "deallocate_statement")


def _confined(loop, unit, scope, bases) -> set[str]:
    """Local arrays (no pointer, target, save or initializer) named outside the loop only in
    their declaration, allocate and deallocate, the loop not inside another loop."""
    if _outermost_loop(loop, unit) != loop:
        return set()
    names = set()
    for name in bases:
        symbol = scope.lookup(name, loop.start_byte) if "." not in name else None
        if symbol is not None and symbol.where == "local" and symbol.is_array and \
                not (symbol.pointer or symbol.target) and symbol.initializer is None and \
                "save" not in symbol.attributes:
            names.add(name)
    for node in walk(unit):
        if node.type != "identifier" or lower(node) not in names:
            continue
        if loop.start_byte <= node.start_byte < loop.end_byte:
            continue
        if node.parent is not None and node.parent.type in _NAMING_ONLY:
            continue
        names.discard(lower(node))
    return names


def _substitutions(model, writes, statements, reader, substitutions, is_integer) -> None:
    """A private integer temporary assigned once, as a statement of the body, from values
    the loop does not change (``j = mod(i, n) + 1``) stands for its value in subscripts."""
    changing = set(writes) | {model.header.var}
    for name, assignments in writes.items():
        if name not in model.locals or len(assignments) != 1 or not is_integer(name):
            continue
        statement = assignments[0]
        if statement not in statements or statement.type != "assignment_statement":
            continue
        value = statement.child_by_field_name("right")
        names = {lower(n) for n in walk(value) if n.type == "identifier"}
        if names & (changing - {model.header.var}):
            continue
        substitutions[name] = reader.read(value)


def _enclosing_facts(loop, reader, symbol, nonnegative: set[str]) -> list[Poly]:
    """Inside the loops around ``loop`` their variables stay in range."""
    facts = []
    current = loop.parent
    while current is not None and current.type not in ("subroutine", "function", "program"):
        if current.type == "do_loop" and loop_kind(current) in ("do", "do concurrent"):
            try:
                info: DoHeader = do_header(current)
                outer = read_control(info.controls[0], reader, symbol,
                                     current.start_point[0] + 1, current)
            except NotCounted:
                outer = None
            if outer is not None:
                var = Poly.symbol(outer.var)
                facts += [var - outer.lower, outer.upper - ONE - var]
                low = outer.lower.const_value()
                if low is not None and low >= 0:
                    nonnegative.add(outer.var)
        current = current.parent
    return facts
