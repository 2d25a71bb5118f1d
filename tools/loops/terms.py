"""A language-neutral view of expressions and conditions, for the pattern rules.

The legality rules recognise shapes (``s = s + e``, ``if (e > m) m = e``, ``x[i] =
max(x[i - 1], v)``); they read them from :class:`Term` trees that each front end builds from
its own syntax (C/C++ and Fortran), never from a grammar's node types. Operators are the C
spellings (Fortran's ``.and.`` is ``&&``, ``/=`` is ``!=``); names are as the language
compares them (Fortran's lower-cased). Every term keeps its source span and node, so the
emitters can still rewrite the source they came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RELATIONS = ("<", "<=", ">", ">=", "==", "!=")
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


@dataclass(frozen=True)
class Term:
    """``kind``: name, const, binary, unary, call, load (``op`` is the base, ``args`` the
    subscripts), member, select (``args`` = condition, then, else) or other (``args``
    holds the sub-terms it reads). ``op`` is the operator or callee."""

    kind: str
    op: str = ""
    args: tuple[Term, ...] = ()
    text: str = ""
    span: tuple[int, int] = (0, 0)
    node: object = field(default=None, compare=False, repr=False, hash=False)

    @property
    def key(self) -> str:
        """The spelling without whitespace: equal keys are the same expression."""
        return "".join(self.text.split())

    def mentions(self, name: str) -> bool:
        if self.kind == "name":
            return self.op == name
        if self.kind == "load" and self.op == name:
            return True
        if any(arg.mentions(name) for arg in self.args):
            return True
        if self.kind in ("other", "member") and not self.args:
            return re.search(rf"(?<![\w.]){re.escape(name)}\b", self.text) is not None
        return False

    def is_name(self, name: str) -> bool:
        return self.kind == "name" and self.op == name

    def contains(self, position: int) -> bool:
        return self.span[0] <= position < self.span[1]

    def comparison(self) -> tuple[Term, str, Term] | None:
        if self.kind == "binary" and self.op in RELATIONS and len(self.args) == 2:
            return self.args[0], self.op, self.args[1]
        return None

    def conjuncts(self) -> list[Term]:
        if self.kind == "binary" and self.op == "&&":
            return self.args[0].conjuncts() + self.args[1].conjuncts()
        return [self]

    def has_side_effects(self) -> bool:
        return self.kind == "other" and self.op in ("assign", "update") or any(
            arg.has_side_effects() for arg in self.args)


@dataclass(frozen=True)
class Guard:
    """The ``if`` right around a statement: its condition, whether it has an else branch,
    whether the statement is the only one of its branch (``sole``) and in which branch,
    whether the ``if`` is a statement of the loop body itself (``top_level``)."""

    condition: Term
    has_else: bool
    sole: bool
    in_else: bool
    top_level: bool
    span: tuple[int, int]
    node: object = field(default=None, compare=False, repr=False, hash=False)

    def contains(self, position: int) -> bool:
        return self.span[0] <= position < self.span[1]
