"""C/C++ expressions to polynomials: the one reader of subscripts, bounds and steps.

Integer literals, names, ``+ - *``, unary minus, parentheses and integer casts are read
exactly; everything else becomes an atom of the function's :class:`AtomTable` with what is
known about it (a container size is non-negative, ``e % m`` is below ``m``, ``col[k]`` is a
load of ``col`` at ``k``). Names of locals defined once from a readable expression
(``int x = i + k;``) are replaced by their definition when the caller allows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.expr import ONE, AtomTable, Poly

_INTEGER = re.compile(r"(0[xX][0-9a-fA-F']+|0[bB][01']+|\d[\d']*)([uUlLzZ]*)")
_INTEGER_CASTS = re.compile(
    r"^(?:const\s+)?(?:(?:unsigned|signed|short|long|int|char)\s*)+$"
    r"|^(?:std::)?(?:size_t|ptrdiff_t|ssize_t|u?int(?:8|16|32|64)_t|intptr_t|uintptr_t)$")
_WRAPPERS = ("parenthesized_expression",)


def normalized(node) -> str:
    return "".join(text(node).split())


def integer_literal(spelling: str) -> int | None:
    match = _INTEGER.fullmatch(spelling)
    if match is None:
        return None
    digits = match.group(1).replace("'", "")
    if digits.lower().startswith("0x"):
        return int(digits, 16)
    if digits.lower().startswith("0b"):
        return int(digits[2:], 2)
    if len(digits) > 1 and digits.startswith("0"):
        return int(digits, 8)
    return int(digits)


def strip(node):
    """The expression inside parentheses and integer casts."""
    while node is not None:
        if node.type in _WRAPPERS:
            inner = [c for c in node.named_children if c.type != "comment"]
            node = inner[0] if len(inner) == 1 else node
            if len(inner) != 1:
                return node
            continue
        if node.type == "cast_expression":
            type_node = node.child_by_field_name("type")
            if type_node is not None and _INTEGER_CASTS.match(" ".join(text(type_node).split())):
                node = node.child_by_field_name("value")
                continue
        if node.type == "call_expression":
            function = node.child_by_field_name("function")
            spelling = normalized(function) if function is not None else ""
            cast = re.fullmatch(r"static_cast<(.+)>", spelling)
            arguments = node.child_by_field_name("arguments")
            named = [c for c in arguments.named_children if c.type != "comment"] \
                if arguments is not None else []
            if cast and _INTEGER_CASTS.match(cast.group(1)) and len(named) == 1:
                node = named[0]
                continue
        return node
    return node


class ExpressionReader:
    """Reads expressions of one function into polynomials over its atom table.

    ``substitute(name, node)`` returns the polynomial a local stands for at ``node`` (its
    single definition), or None to keep the name."""

    def __init__(self, atoms: AtomTable, substitute: Callable[[str, object], Poly | None]
                 | None = None, is_unsigned: Callable[[str, object], bool] | None = None,
                 macros: dict | None = None):
        self.atoms = atoms
        self.substitute = substitute or (lambda name, node: None)
        self.is_unsigned = is_unsigned or (lambda name, node: False)
        self.macros = macros or {}  # arithmetic macros of the file, read as their expansion

    def read(self, node) -> Poly:
        """The polynomial of an expression; never fails (unknown parts become atoms)."""
        node = strip(node)
        if node is None:
            return self._atom(None, "other")
        kind = node.type
        if kind == "number_literal":
            value = integer_literal(text(node))
            return Poly.const(value) if value is not None else self._atom(node, "other")
        if kind == "identifier":
            name = text(node)
            replaced = self.substitute(name, node)
            return replaced if replaced is not None else Poly.symbol(name)
        if kind == "unary_expression":
            operator = text(node.child(0))
            argument = node.child_by_field_name("argument")
            if operator == "-":
                return -self.read(argument)
            if operator == "+":
                return self.read(argument)
            return self._atom(node, "other")
        if kind == "binary_expression":
            return self._binary(node)
        if kind == "subscript_expression":
            return self._load(node)
        if kind == "field_expression":
            return self._member(node)
        if kind == "call_expression":
            return self._call(node)
        if kind in ("sizeof_expression", "alignof_expression"):
            return self._atom(node, "other", nonnegative=True)
        return self._atom(node, "other")

    def _binary(self, node) -> Poly:
        operator = text(node.child(1))
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if operator == "+":
            return self.read(left) + self.read(right)
        if operator == "-":
            return self.read(left) - self.read(right)
        if operator == "*":
            return self.read(left) * self.read(right)
        if operator == "%":
            divisor = self.read(right)
            return self._atom(node, "modulo", upper=divisor - ONE, numerator=self.read(left))
        if operator in ("/", ">>"):
            divisor = self.read(right).const_value()
            if divisor is not None and operator == ">>":
                divisor = 1 << divisor if 0 <= divisor < 63 else None
            if divisor is not None and divisor > 0:
                return self._atom(node, "division", numerator=self.read(left), divisor=divisor)
            return self._atom(node, "division")
        return self._atom(node, "other")

    def _load(self, node) -> Poly:
        base = strip(node.child_by_field_name("argument"))
        indices = node.child_by_field_name("indices") or node.child(1)
        inner = [c for c in indices.named_children if c.type != "comment"] if indices else []
        index = self.read(inner[0]) if len(inner) == 1 else None
        base_name = text(base) if base is not None and base.type == "identifier" else None
        return self._atom(node, "load", base=base_name, index=index)

    def _member(self, node) -> Poly:
        argument = strip(node.child_by_field_name("argument"))
        if argument is not None and argument.type == "subscript_expression":
            base = strip(argument.child_by_field_name("argument"))
            indices = argument.child_by_field_name("indices") or argument.child(1)
            inner = [c for c in indices.named_children if c.type != "comment"] \
                if indices else []
            index = self.read(inner[0]) if len(inner) == 1 else None
            base_name = text(base) if base is not None and base.type == "identifier" else None
            return self._atom(node, "load", base=base_name, index=index)
        return self._atom(node, "member")

    def _call(self, node) -> Poly:
        function = node.child_by_field_name("function")
        if function is not None and function.type == "identifier" and \
                text(function) in self.macros:
            from ellora.tools.loops.cpp.macros import expression_of

            arguments = node.child_by_field_name("arguments")
            named = [a for a in arguments.named_children if a.type != "comment"] \
                if arguments is not None else []
            macro = self.macros[text(function)]
            body = expression_of(macro)
            if len(named) == len(macro.parameters) and body is not None:
                return self._expanded(body, dict(zip(macro.parameters, named)))
        if function is not None and function.type == "field_expression":
            member = function.child_by_field_name("field")
            if member is not None and text(member) in ("size", "length"):
                owner = strip(function.child_by_field_name("argument"))
                owner_name = text(owner) if owner is not None else None
                return self._atom(node, "size", base=owner_name, nonnegative=True)
        return self._atom(node, "call")

    def _expanded(self, body, arguments: dict) -> Poly:
        """A macro's body with each parameter standing for its argument, read at its own
        call-site node (so locals in it are replaced as anywhere else). The body is + - *
        over parameters, numbers and constants: it makes no atom of its own."""
        saved = self.substitute
        values = {name: self.read(argument) for name, argument in arguments.items()}
        self.substitute = lambda name, node: values.get(name)
        try:
            return self.read(body)
        finally:
            self.substitute = saved

    def _atom(self, node, kind: str, **details) -> Poly:
        if node is None:
            return self.atoms.add("?", "?", "other")
        names = frozenset(text(n) for n in walk(node) if n.type == "identifier"
                          and not _is_callee(n))
        nonnegative = details.pop("nonnegative", False)
        return self.atoms.add(normalized(node), " ".join(text(node).split()), kind,
                              names=names, node=node, nonnegative=nonnegative, **details)


def _is_callee(node) -> bool:
    parent = node.parent
    return parent is not None and parent.type == "call_expression" and (
        parent.child_by_field_name("function") == node)


def comparison_parts(node) -> tuple[object, str, object] | None:
    """(left, operator, right) of a relational expression (parentheses removed)."""
    node = strip(node)
    if node is None or node.type != "binary_expression":
        return None
    operator = text(node.child(1))
    if operator not in ("<", "<=", ">", ">=", "==", "!="):
        return None
    return node.child_by_field_name("left"), operator, node.child_by_field_name("right")
