"""Fortran expressions to polynomials: the one reader of subscripts, bounds and steps.

Integer literals (with or without a kind suffix), names (lower-cased), ``+ - *``, unary
minus, parentheses, small constant powers (``i**2``) and integer named constants are read
exactly; everything else becomes an atom of the function's table with what is known of it:
``mod(e, m)`` and ``modulo(e, m)`` lie below ``m``, ``e / c`` is a division, ``size(x)`` is
non-negative, ``col(k)`` on an array is a load of ``col`` at ``k``, ``int(k, 8)`` of an
integer is ``k``.
"""

from __future__ import annotations

from collections.abc import Callable

from ellora.tools.loops.expr import ONE, AtomTable, Poly
from ellora.tools.loops.fortran.syntax import (
    callee_and_arguments,
    key_of,
    lower,
    named,
    spelled,
    strip,
    text,
    walk,
)

MAX_POWER = 4  # i**k with a constant k up to this is multiplied out


def integer_literal(node) -> int | None:
    spelling = text(node).split("_")[0]
    return int(spelling) if spelling.isdigit() else None


class ExpressionReader:
    """Reads the expressions of one procedure into polynomials over its atom table.

    ``is_array(name)`` says whether ``name(...)`` is an element; ``constant(name)`` gives an
    integer named constant's value; ``substitute(name, node)`` the polynomial a private
    temporary stands for at ``node`` (None keeps the name); ``is_integer(name)`` whether a
    name is an integer (``int(k)`` of one is ``k``)."""

    def __init__(self, atoms: AtomTable, is_array: Callable[[str], bool],
                 constant: Callable[[str], int | None] = lambda name: None,
                 substitute: Callable[[str, object], Poly | None] | None = None,
                 is_integer: Callable[[str], bool] = lambda name: False):
        self.atoms = atoms
        self.is_array = is_array
        self.constant = constant
        self.substitute = substitute or (lambda name, node: None)
        self.is_integer = is_integer

    def read(self, node) -> Poly:
        """The polynomial of an expression; never fails (unknown parts become atoms)."""
        node = strip(node)
        if node is None:
            return self.atoms.add("?", "?", "other")
        kind = node.type
        if kind == "number_literal":
            value = integer_literal(node)
            return Poly.const(value) if value is not None else self._atom(node, "other")
        if kind == "identifier":
            name = lower(node)
            value = self.constant(name)
            if value is not None:
                return Poly.const(value)
            replaced = self.substitute(name, node)
            return replaced if replaced is not None else Poly.symbol(name)
        if kind == "unary_expression":
            operator = text(node.child_by_field_name("operator"))
            argument = self.read(node.child_by_field_name("argument"))
            if operator == "-":
                return -argument
            if operator == "+":
                return argument
            return self._atom(node, "other")
        if kind == "math_expression":
            return self._binary(node)
        if kind == "call_expression":
            return self._call(node)
        return self._atom(node, "other")

    def _binary(self, node) -> Poly:
        operator = text(node.child_by_field_name("operator"))
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if operator == "+":
            return self.read(left) + self.read(right)
        if operator == "-":
            return self.read(left) - self.read(right)
        if operator == "*":
            return self.read(left) * self.read(right)
        if operator == "**":
            power = self.read(right).const_value()
            if power is not None and 0 <= power <= MAX_POWER:
                base, result = self.read(left), ONE
                for _ in range(power):
                    result = result * base
                return result
            return self._atom(node, "other")
        if operator == "/":
            divisor = self.read(right).const_value()
            if divisor is not None and divisor > 0:
                return self._atom(node, "division", numerator=self.read(left),
                                  divisor=divisor)
            return self._atom(node, "division")
        return self._atom(node, "other")

    def _call(self, node) -> Poly:
        name, arguments = callee_and_arguments(node)
        if name is None:
            return self._atom(node, "other")
        if self.is_array(name):
            index = self.read(arguments[0]) if len(arguments) == 1 and \
                arguments[0].type != "extent_specifier" else None
            return self._atom(node, "load", base=name, index=index)
        if name in ("mod", "modulo") and len(arguments) == 2:
            divisor = self.read(arguments[1])
            details = {"upper": divisor - ONE, "numerator": self.read(arguments[0])}
            if name == "modulo" and divisor.const_value() is not None and \
                    divisor.const_value() > 0:
                details["lower"] = Poly()
            return self._atom(node, "modulo", **details)
        if name in ("int", "int8", "int4") and len(arguments) in (1, 2) and \
                self._integer_valued(arguments[0]):
            return self.read(arguments[0])
        if name == "size":
            base = lower(arguments[0]) if arguments and arguments[0].type == "identifier" \
                else None
            return self._atom(node, "size", base=base, nonnegative=True)
        return self._atom(node, "call")

    def _integer_valued(self, node) -> bool:
        """Only integer literals, integer names and integer operations (no ``/``)."""
        for part in walk(node):
            if part.type == "number_literal" and integer_literal(part) is None:
                return False
            if part.type == "identifier" and not self.is_integer(lower(part)) and \
                    self.constant(lower(part)) is None:
                return False
            if part.type in ("call_expression", "relational_expression",
                             "logical_expression") or (part.type == "math_expression" and text(
                    part.child_by_field_name("operator")) == "/"):
                return False
        return True

    def _atom(self, node, kind: str, **details) -> Poly:
        names = frozenset(lower(n) for n in walk(node) if n.type == "identifier"
                          and not _is_callee(n, self.is_array))
        nonnegative = details.pop("nonnegative", False)
        return self.atoms.add(key_of(node), spelled(node), kind, names=names, node=node,
                              nonnegative=nonnegative, **details)


def _is_callee(node, is_array) -> bool:
    parent = node.parent
    return parent is not None and parent.type == "call_expression" and \
        parent.named_children[0] == node and not is_array(lower(node))


def comparison_parts(node) -> tuple[object, str, object] | None:
    """(left, operator in C spelling, right) of a relational expression."""
    from ellora.tools.loops.fortran.terms import RELATIONS

    node = strip(node)
    if node is None or node.type != "relational_expression":
        return None
    operator = RELATIONS.get(text(node.child_by_field_name("operator")).lower())
    if operator is None:
        return None
    return node.child_by_field_name("left"), operator, node.child_by_field_name("right")


def argument_list(node) -> list:
    arguments = next((c for c in node.named_children if c.type == "argument_list"), None)
    return named(arguments) if arguments is not None else []
