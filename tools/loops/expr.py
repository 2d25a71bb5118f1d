"""The one algebraic form of the loop model: integer polynomials over names and atoms.

Every subscript, loop bound and step the front ends read becomes a :class:`Poly`: a sum of
integer multiples of monomials, each monomial a product of *symbols*. A symbol is either a
plain variable name (``i``, ``n``) or the key of an :class:`Atom`, a subexpression the
algebra does not look into (``x.size()``, ``n / 2``, ``col[k]``, ``(i + x + N) % N``), kept
once per distinct spelling so that equal expressions give equal polynomials. Affine
subscripts are the degree-one case; row-major ``i * n + j`` is multilinear, which the range
reasoning in :mod:`ellora.tools.loops.bounds` handles at the corners of the loop box.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Monomial = tuple[str, ...]  # sorted symbols; () is the constant term

ATOM_PREFIX = "$"  # atom keys start with it; plain names never do


def is_atom(symbol: str) -> bool:
    return symbol.startswith(ATOM_PREFIX)


class Poly:
    """An integer polynomial; immutable, hashable, with exact arithmetic."""

    __slots__ = ("_hash", "_terms")

    def __init__(self, terms: dict[Monomial, int] | None = None):
        self._terms = {m: c for m, c in (terms or {}).items() if c != 0}
        self._hash: int | None = None

    @classmethod
    def const(cls, value: int) -> Poly:
        return cls({(): value})

    @classmethod
    def symbol(cls, name: str) -> Poly:
        return cls({(name,): 1})

    @property
    def terms(self) -> dict[Monomial, int]:
        return dict(self._terms)

    def __add__(self, other: Poly | int) -> Poly:
        other = _lift(other)
        terms = dict(self._terms)
        for monomial, coefficient in other._terms.items():
            terms[monomial] = terms.get(monomial, 0) + coefficient
        return Poly(terms)

    __radd__ = __add__

    def __neg__(self) -> Poly:
        return Poly({m: -c for m, c in self._terms.items()})

    def __sub__(self, other: Poly | int) -> Poly:
        return self + (-_lift(other))

    def __rsub__(self, other: Poly | int) -> Poly:
        return _lift(other) - self

    def __mul__(self, other: Poly | int) -> Poly:
        other = _lift(other)
        terms: dict[Monomial, int] = {}
        for m1, c1 in self._terms.items():
            for m2, c2 in other._terms.items():
                monomial = tuple(sorted(m1 + m2))
                terms[monomial] = terms.get(monomial, 0) + c1 * c2
        return Poly(terms)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int):
            other = Poly.const(other)
        return isinstance(other, Poly) and self._terms == other._terms

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._terms.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"Poly({self.render(lambda s: s)})"

    @property
    def constant(self) -> int:
        return self._terms.get((), 0)

    def const_value(self) -> int | None:
        """The value when the polynomial is a constant, else None."""
        if all(m == () for m in self._terms):
            return self.constant
        return None

    def symbols(self) -> set[str]:
        return {s for m in self._terms for s in m}

    def mentions(self, name: str) -> bool:
        return any(name in m for m in self._terms)

    def degree(self, name: str) -> int:
        return max((m.count(name) for m in self._terms), default=0)

    def split(self, name: str) -> tuple[Poly, Poly]:
        """(coefficient, rest) with ``self == coefficient * name + rest``; ValueError when
        ``name`` appears with degree above one."""
        if self.degree(name) > 1:
            raise ValueError(f"not linear in {name}")
        coefficient: dict[Monomial, int] = {}
        rest: dict[Monomial, int] = {}
        for monomial, value in self._terms.items():
            if name in monomial:
                reduced = list(monomial)
                reduced.remove(name)
                coefficient[tuple(reduced)] = value
            else:
                rest[monomial] = value
        return Poly(coefficient), Poly(rest)

    def substitute(self, values: dict[str, Poly]) -> Poly:
        """The polynomial with each symbol in ``values`` replaced."""
        result = Poly()
        for monomial, coefficient in self._terms.items():
            term = Poly.const(coefficient)
            for symbol in monomial:
                term = term * values.get(symbol, Poly.symbol(symbol))
            result = result + term
        return result

    def evaluate(self, values: dict[str, int]) -> int:
        total = 0
        for monomial, coefficient in self._terms.items():
            term = coefficient
            for symbol in monomial:
                term *= values[symbol]
            total += term
        return total

    def divide_exactly(self, divisor: Poly) -> Poly | None:
        """``self / divisor`` when the divisor is one monomial (times a constant) that divides
        every term exactly; None otherwise."""
        if len(divisor._terms) != 1:
            return None
        (monomial, coefficient), = divisor._terms.items()
        quotient: dict[Monomial, int] = {}
        for term, value in self._terms.items():
            remaining = list(term)
            for symbol in monomial:
                if symbol not in remaining:
                    return None
                remaining.remove(symbol)
            if value % coefficient:
                return None
            quotient[tuple(remaining)] = value // coefficient
        return Poly(quotient)

    def render(self, symbol_text: Callable[[str], str]) -> str:
        """C-like text; ``symbol_text`` spells each symbol (atoms as their source text)."""
        if not self._terms:
            return "0"
        parts = []
        ordered = sorted(self._terms.items(), key=lambda item: (item[0] == (), item[0]))
        for monomial, coefficient in ordered:
            factors = [symbol_text(s) for s in monomial]
            magnitude = abs(coefficient)
            if magnitude != 1 or not factors:
                factors.insert(0, str(magnitude))
            text = " * ".join(factors)
            sign = "-" if coefficient < 0 else "+"
            parts.append((sign, text))
        first_sign, first_text = parts[0]
        out = ("-" if first_sign == "-" else "") + first_text
        for sign, text in parts[1:]:
            out += f" {sign} {text}"
        return out


def _lift(value: Poly | int) -> Poly:
    return value if isinstance(value, Poly) else Poly.const(value)


ZERO = Poly()
ONE = Poly.const(1)


@dataclass
class Atom:
    """A subexpression the algebra treats as one symbol.

    ``kind``: ``size`` (a container's length), ``load`` (an element read, e.g. CSR
    ``col[k]``), ``division``, ``modulo``, ``call``, ``member`` or ``other``. A load names
    its base and index; ``lower``/``upper`` are inclusive bounds when the front end knows
    them (``e % m`` lies in [0, m - 1] for non-negative ``e``)."""

    key: str
    text: str
    kind: str
    base: str | None = None
    index: Poly | None = None
    lower: Poly | None = None
    upper: Poly | None = None
    nonnegative: bool = False
    names: frozenset[str] = frozenset()  # plain names the subexpression reads
    numerator: Poly | None = None  # ``numerator / divisor`` (C's division, divisor > 0)
    divisor: int | None = None
    node: object = field(default=None, repr=False, compare=False)


class AtomTable:
    """The atoms of one function, keyed by their normalized spelling."""

    def __init__(self) -> None:
        self._atoms: dict[str, Atom] = {}

    def add(self, spelling: str, text: str, kind: str, **details) -> Poly:
        key = ATOM_PREFIX + spelling
        if key not in self._atoms:
            self._atoms[key] = Atom(key=key, text=text, kind=kind, **details)
        return Poly.symbol(key)

    def get(self, key: str) -> Atom | None:
        return self._atoms.get(key)

    def __iter__(self) -> Iterable[Atom]:
        return iter(self._atoms.values())

    def text_of(self, symbol: str) -> str:
        """How ``symbol`` is spelled in C++: atoms parenthesized, names as they are."""
        atom = self._atoms.get(symbol)
        if atom is None:
            return symbol
        return atom.text if _simple(atom.text) else f"({atom.text})"

    def render(self, poly: Poly) -> str:
        return poly.render(self.text_of)

    def plain_names(self, poly: Poly) -> set[str]:
        """Every plain variable name the polynomial reads, through its atoms too."""
        names = set()
        for symbol in poly.symbols():
            atom = self._atoms.get(symbol)
            if atom is None:
                names.add(symbol)
            else:
                names |= set(atom.names)
        return names


def _simple(text: str) -> bool:
    depth = 0
    for character in text:
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(character, 0)
        if depth == 0 and character in " +-*/%?:<>=&|^":
            return False
    return True
