"""What the C/C++ front end reads around a loop: the names it assigns, the locals that
stand for their definitions, the ranges the loops around it give, the uses after it."""

from __future__ import annotations

from ellora.tools.loops.cpp.header import NotCounted, read_header
from ellora.tools.loops.cpp.reader import strip
from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.cxx_types import CType
from ellora.tools.loops.expr import Poly

_LOOP_TYPES = ("for_statement", "for_range_loop", "while_statement", "do_statement")


def _outermost_loop(loop, function):
    """The outermost loop of ``function`` around ``loop`` (``loop`` itself when none is)."""
    outer, current = loop, loop.parent
    while current is not None and current != function:
        if current.type in _LOOP_TYPES:
            outer = current
        current = current.parent
    return outer


def _used_outside(loop, function, names: set[str]) -> set[str]:
    """Which of ``names`` are read after the loop, or anywhere in a loop around it (whose
    next iteration sees them)."""
    outer = _outermost_loop(loop, function)
    found = set()
    for node in walk(function):
        if node.type != "identifier" or text(node) not in names:
            continue
        inside = loop.start_byte <= node.start_byte < loop.end_byte
        after = node.start_byte >= loop.end_byte
        in_outer = outer is not loop and outer.start_byte <= node.start_byte < outer.end_byte
        if not inside and (after or in_outer):
            found.add(text(node))
    return found


def _confined(loop, function, scope, bases) -> set[str]:
    """Local arrays and containers (not static, not references) whose name appears only in
    the loop and in its own declaration, the loop not inside another loop."""
    if _outermost_loop(loop, function) is not loop:
        return set()
    names = set()
    for name in bases:
        symbol = scope.lookup(name, loop.start_byte) if "." not in name else None
        if symbol is not None and symbol.where == "local" and not symbol.is_static and \
                not symbol.ctype.reference and \
                symbol.ctype.kind in ("array", "vector", "std_array", "string"):
            names.add(name)
    for node in walk(function):
        if node.type != "identifier" or text(node) not in names:
            continue
        if loop.start_byte <= node.start_byte < loop.end_byte:
            continue
        parent = node.parent
        if parent is not None and parent.type in ("declaration", "init_declarator",
                                                  "array_declarator") and \
                parent.child_by_field_name("declarator") == node:
            continue
        names.discard(text(node))
    return names


def _body_statements(body) -> list:
    if body is None:
        return []
    if body.type != "compound_statement":
        return [body]
    return [c for c in body.named_children if c.type not in ("comment", "preproc_call")]


def _statement_kind(node) -> str:
    return {"declaration": "declaration", "if_statement": "if",
            "expression_statement": "expression", "for_statement": "loop",
            "for_range_loop": "loop", "while_statement": "loop",
            "do_statement": "loop"}.get(node.type, "other")


def _single(branch):
    """The one statement of a branch (through braces), else None."""
    while branch is not None and branch.type == "compound_statement":
        inner = [c for c in branch.named_children if c.type != "comment"]
        if len(inner) != 1:
            return None
        branch = inner[0]
    return branch


def _type_of(scope, name: str, node) -> CType | None:
    symbol = scope.lookup(name, node.start_byte)
    return symbol.ctype if symbol is not None else None


def _assigned_names(loop) -> set[str]:
    names = set()
    for node in walk(loop):
        target = None
        if node.type == "assignment_expression":
            target = node.child_by_field_name("left")
        elif node.type == "update_expression":
            target = node.child_by_field_name("argument")
        target = strip(target) if target is not None else None
        if target is not None and target.type == "identifier":
            names.add(text(target))
    return names


def _definition(name, node, loop, scope, reader, written) -> Poly | None:
    """A local declared in the loop with an integer initializer and never assigned again
    stands for its initializer (``int x = i + k;``)."""
    symbol = scope.lookup(name, node.start_byte)
    if symbol is None or symbol.where != "local" or symbol.initializer is None:
        return None
    if not (loop.start_byte <= symbol.node.start_byte < loop.end_byte) or name in written:
        return None
    if symbol.node.type != "declaration" or not (symbol.ctype.is_integer or
                                                 symbol.ctype.kind == "auto"):
        return None
    if symbol.initializer.start_byte <= node.start_byte < symbol.initializer.end_byte:
        return None
    value = reader.read(symbol.initializer)
    if symbol.ctype.is_unsigned:
        for key in value.symbols():
            atom = reader.atoms.get(key)
            if atom is not None and atom.kind == "modulo":
                atom.nonnegative = True
    return value


def _enclosing_facts(loop, reader, scope, nonnegative: set[str]) -> list[Poly]:
    """Inside the loops around ``loop`` their variables stay in range: ``var - lower >= 0``
    and ``upper - 1 - var >= 0`` (the outer variables are invariants of this loop)."""
    facts = []
    current = loop.parent
    while current is not None and current.type != "function_definition":
        if current.type in ("for_statement", "for_range_loop"):
            try:
                header = read_header(current, reader, lambda name, node: _type_of(scope, name,
                                                                                  node))
            except NotCounted:
                header = None
            body = current.child_by_field_name("body")
            if header is not None and body is not None and \
                    header.var in _assigned_names(body):
                header = None  # the body moves its variable: the header's range says nothing
            if header is not None and header.range_of is None:
                var = Poly.symbol(header.var)
                facts += [var - header.lower, header.upper - Poly.const(1) - var]
                if header.lower.const_value() is not None and header.lower.const_value() >= 0:
                    nonnegative.add(header.var)
        current = current.parent
    return facts


def _nonnegative_names(scope, loop) -> set[str]:
    names = set()
    for symbol in [*scope.parameters.values(), *scope.locals, *scope.file.globals.values()]:
        if symbol.ctype.is_unsigned:
            names.add(symbol.name)
    return names


def _declared_name(declarator) -> str | None:
    while declarator is not None and declarator.type in ("reference_declarator",
                                                         "pointer_declarator"):
        declarator = next((c for c in declarator.named_children
                           if c.type not in ("type_qualifier", "comment")), None)
    if declarator is not None and declarator.type == "identifier":
        return text(declarator)
    return None


def _statement_of(node):
    current = node
    while current is not None and not (current.type.endswith("_statement") or
                                       current.type == "declaration"):
        current = current.parent
    return current


def _member_type(scope, ctype: CType, path: list[str]) -> CType | None:
    current = ctype
    for member in path:
        members = scope.file.structs.get(current.name) if current is not None else None
        if members is None or member not in members:
            return None
        current = members[member]
    return current
