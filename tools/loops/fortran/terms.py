"""Fortran expressions as :class:`~ellora.tools.loops.terms.Term` trees, in the C spellings
the rules read: ``.and.`` is ``&&``, ``.or.`` ``||``, ``.not.`` ``!``, ``/=`` and ``.ne.``
``!=``, ``.eq.`` ``==`` (and the other relations), ``iand``/``ior``/``ieor`` the operators
``& | ^``, ``merge(t, f, mask)`` a select. Names are lower-cased; ``a(i, j)`` is a load when
``a`` is an array and a call otherwise (the scope decides)."""

from __future__ import annotations

from collections.abc import Callable

from ellora.tools.loops.fortran.intrinsics import OPERATOR_CALLS
from ellora.tools.loops.fortran.syntax import callee_and_arguments, lower, named, spelled, text
from ellora.tools.loops.terms import Term

RELATIONS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "/=": "!=",
             ".lt.": "<", ".le.": "<=", ".gt.": ">", ".ge.": ">=", ".eq.": "==",
             ".ne.": "!="}
LOGICAL = {".and.": "&&", ".or.": "||", ".eqv.": "==", ".neqv.": "!="}
_LITERALS = ("number_literal", "boolean_literal", "string_literal", "complex_literal")


def _bare(node):
    while node is not None and node.type == "parenthesized_expression":
        inner = named(node)
        if len(inner) != 1:
            return node
        node = inner[0]
    return node


class TermReader:
    """Builds terms for one procedure; ``is_array(name)`` tells elements from calls."""

    def __init__(self, is_array: Callable[[str], bool]):
        self.is_array = is_array

    def term(self, node) -> Term | None:
        """The term of an expression node (parentheses removed); None for no node."""
        node = _bare(node)
        if node is None:
            return None
        kind = node.type
        span = (node.start_byte, node.end_byte)
        spelling = spelled(node)

        def make(kind_name: str, op: str = "", args=()) -> Term:
            return Term(kind_name, op, tuple(a for a in args if a is not None), spelling,
                        span, node)

        if kind == "identifier":
            return make("name", lower(node))
        if kind in _LITERALS:
            return make("const", spelling)
        if kind == "math_expression":
            return make("binary", text(node.child_by_field_name("operator")),
                        (self.term(node.child_by_field_name("left")),
                         self.term(node.child_by_field_name("right"))))
        if kind == "relational_expression":
            operator = text(node.child_by_field_name("operator")).lower()
            return make("binary", RELATIONS.get(operator, operator),
                        (self.term(node.child_by_field_name("left")),
                         self.term(node.child_by_field_name("right"))))
        if kind == "logical_expression":
            operator = node.child_by_field_name("operator")
            left = node.child_by_field_name("left")
            if left is None:  # .not. x
                return make("unary", "!", (self.term(node.child_by_field_name("argument")),))
            spelled_op = text(operator).lower() if operator is not None else ""
            return make("binary", LOGICAL.get(spelled_op, spelled_op),
                        (self.term(left), self.term(node.child_by_field_name("right"))))
        if kind == "concatenation_expression":
            return make("binary", "//", (self.term(node.child_by_field_name("left")),
                                         self.term(node.child_by_field_name("right"))))
        if kind == "unary_expression":
            return make("unary", text(node.child_by_field_name("operator")),
                        (self.term(node.child_by_field_name("argument")),))
        if kind == "call_expression":
            return self._call(node, make)
        if kind == "derived_type_member_expression":
            parts = named(node)
            member = next((c for c in parts if c.type == "type_member"), None)
            return make("member", lower(member) if member is not None else "?",
                        (self.term(parts[0]),) if parts else ())
        if kind == "keyword_argument":
            return self.term(node.child_by_field_name("value"))
        return make("other", kind, [self.term(c) for c in named(node)])

    def _call(self, node, make) -> Term:
        name, arguments = callee_and_arguments(node)
        if name is None:
            return make("other", "call", [self.term(c) for c in named(node)])
        if self.is_array(name):
            return make("load", name, [self._subscript(a) for a in arguments])
        terms = [self.term(a) for a in arguments]
        if name in OPERATOR_CALLS and len(terms) == 2:
            return make("binary", OPERATOR_CALLS[name], terms)
        if name == "merge" and len(terms) == 3:
            return make("select", "?:", (terms[2], terms[0], terms[1]))
        return make("call", name, terms)

    def _subscript(self, node) -> Term:
        if node.type == "extent_specifier":
            return Term("other", "section", tuple(self.term(c) for c in named(node)),
                        spelled(node), (node.start_byte, node.end_byte), node)
        return self.term(node)
