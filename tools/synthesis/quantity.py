"""Integer expressions the harness computes from the case size: one tree, two readings.

The same expression is written into the harness as C++ (``long long`` arithmetic, C's
truncating division) and evaluated here in Python with the same semantics, so the solver
checks, at every size the tests will run, the very values the harness will compute."""

from __future__ import annotations

import re
from dataclasses import dataclass


class Expr:
    """An integer expression over named quantities."""

    def cpp(self) -> str:
        raise NotImplementedError

    def value(self, env: dict[str, int]) -> int:
        raise NotImplementedError

    def refs(self) -> set[str]:
        return set()


@dataclass(frozen=True)
class Num(Expr):
    number: int

    def cpp(self) -> str:
        return f"{self.number}LL" if self.number >= 0 else f"({self.number}LL)"

    def value(self, env):
        return self.number


@dataclass(frozen=True)
class Ref(Expr):
    name: str

    def cpp(self) -> str:
        return cpp_name(self.name)

    def value(self, env):
        return env[self.name]

    def refs(self):
        return {self.name}


@dataclass(frozen=True)
class Sum(Expr):
    """``sum(coefficient * product(factors))``."""

    terms: tuple[tuple[int, tuple[Expr, ...]], ...]

    def cpp(self) -> str:
        if not self.terms:
            return "0LL"
        parts = []
        for coefficient, factors in self.terms:
            product = " * ".join(f.cpp() for f in factors)
            if not factors:
                parts.append(f"{coefficient}LL")
            elif coefficient == 1:
                parts.append(product)
            else:
                parts.append(f"{coefficient}LL * {product}")
        return "(" + " + ".join(parts) + ")"

    def value(self, env):
        total = 0
        for coefficient, factors in self.terms:
            term = coefficient
            for factor in factors:
                term *= factor.value(env)
            total += term
        return total

    def refs(self):
        return {r for _, factors in self.terms for f in factors for r in f.refs()}


@dataclass(frozen=True)
class Extreme(Expr):
    """The largest (``largest``) or smallest of its items."""

    items: tuple[Expr, ...]
    largest: bool = True

    def cpp(self) -> str:
        if len(self.items) == 1:
            return self.items[0].cpp()
        function = "std::max" if self.largest else "std::min"
        return f"{function}<long long>({{{', '.join(i.cpp() for i in self.items)}}})"

    def value(self, env):
        values = [i.value(env) for i in self.items]
        return max(values) if self.largest else min(values)

    def refs(self):
        return {r for i in self.items for r in i.refs()}


@dataclass(frozen=True)
class Div(Expr):
    """C's integer division by a positive constant (truncates toward zero)."""

    numerator: Expr
    divisor: int

    def cpp(self) -> str:
        return f"({self.numerator.cpp()} / {self.divisor}LL)"

    def value(self, env):
        n = self.numerator.value(env)
        quotient = abs(n) // self.divisor
        return quotient if n >= 0 else -quotient

    def refs(self):
        return self.numerator.refs()


@dataclass(frozen=True)
class FloorDiv(Expr):
    """Floor division by a positive constant (a bound ``a * v <= e`` gives v <= floor)."""

    numerator: Expr
    divisor: int

    def cpp(self) -> str:
        if self.divisor == 1:
            return self.numerator.cpp()
        return f"ellora_synth::floor_div({self.numerator.cpp()}, {self.divisor}LL)"

    def value(self, env):
        return self.numerator.value(env) // self.divisor

    def refs(self):
        return self.numerator.refs()


@dataclass(frozen=True)
class Gate(Expr):
    """``then`` when every ``high >= low`` pair holds, else 0 (no room for its values)."""

    pairs: tuple[tuple[Expr, Expr], ...]
    then: Expr

    def cpp(self) -> str:
        test = " && ".join(f"{h.cpp()} >= {lo.cpp()}" for h, lo in self.pairs)
        return f"(({test}) ? {self.then.cpp()} : 0LL)"

    def value(self, env):
        return self.then.value(env) if all(h.value(env) >= lo.value(env)
                                           for h, lo in self.pairs) else 0

    def refs(self):
        return self.then.refs() | {r for h, lo in self.pairs for r in h.refs() | lo.refs()}


@dataclass(frozen=True)
class Root(Expr):
    """The integer nearest ``size ** (1 / degree)`` (exact on perfect powers)."""

    size: Expr
    degree: int

    def cpp(self) -> str:
        return f"ellora_synth::iroot({self.size.cpp()}, {self.degree})"

    def value(self, env):
        return integer_root(self.size.value(env), self.degree)

    def refs(self):
        return self.size.refs()


def integer_root(size: int, degree: int) -> int:
    """The integer nearest ``size ** (1/degree)`` (the smaller on a tie), as iroot() in the
    harness computes it."""
    if size <= 0:
        return 0
    low, high = 0, 1
    while high ** degree < size:
        high *= 2
    while low < high:
        middle = (low + high) // 2
        if middle ** degree < size:
            low = middle + 1
        else:
            high = middle
    if low > 0 and size - (low - 1) ** degree <= low ** degree - size:
        return low - 1
    return low


IROOT_CPP = """inline long long iroot(long long size, int degree) {  // nearest size^(1/degree)
  if (size <= 0) return 0;
  auto power = [degree](long long v) { long double p = 1; for (int k = 0; k < degree; ++k) p *= v; return p; };
  long long low = 0, high = 1;
  while (power(high) < size) high *= 2;
  while (low < high) {
    long long middle = (low + high) / 2;
    if (power(middle) < size) low = middle + 1; else high = middle;
  }
  if (low > 0 && size - power(low - 1) <= power(low) - size) return low - 1;
  return low;
}
inline long long floor_div(long long a, long long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
"""


def cpp_name(name: str) -> str:
    """A C++ identifier for a quantity name (``ext:x.row`` -> ``q_ext_x_row``)."""
    return "q_" + re.sub(r"\W", "_", name)


def evaluate(quantities: list[tuple[str, Expr]], env: dict[str, int]) -> dict[str, int]:
    """Every quantity's value, in order (each may use the ones before it)."""
    values = dict(env)
    for name, expr in quantities:
        values[name] = expr.value(values)
    return values


def ordered(quantities: dict[str, Expr], given: set[str]) -> list[tuple[str, Expr]]:
    """The quantities in an order where each comes after what it uses; ValueError naming
    the quantities that depend on each other."""
    done, result = set(given), []
    pending = dict(quantities)
    while pending:
        ready = [n for n, e in pending.items() if e.refs() <= done]
        if not ready:
            raise ValueError(", ".join(sorted(pending)))
        for name in sorted(ready):
            result.append((name, pending.pop(name)))
            done.add(name)
    return result
