"""Range reasoning over polynomials: extremes over a loop box and conservative proofs.

A :class:`RangeEnv` knows an inclusive interval for each loop variable (bounds are
polynomials in outer variables and invariants), which symbols are non-negative, and facts
(polynomials known to be >= 0 where an access runs: a loop's range is not empty inside its
body, an ``if (i > 0)`` around a read). The extremes of a polynomial that is linear in each
loop variable lie at the ends of its interval, so eliminating the variables innermost first
gives a few candidate polynomials in invariants only. Anything the rules cannot decide is
"not proved", never "false".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ellora.tools.loops.expr import ONE, AtomTable, Poly

_MAX_CANDIDATES = 64


@dataclass(frozen=True)
class Interval:
    """``lower <= value <= upper`` (inclusive)."""

    lower: Poly
    upper: Poly


@dataclass
class RangeEnv:
    """Intervals of loop variables (outermost first), non-negative symbols and facts."""

    atoms: AtomTable
    intervals: dict[str, Interval] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    nonnegative: set[str] = field(default_factory=set)
    facts: list[Poly] = field(default_factory=list)

    def with_interval(self, name: str, interval: Interval) -> RangeEnv:
        """A copy with one more (innermost) loop variable; inside its body its range is not
        empty, so ``upper - lower >= 0`` becomes a fact."""
        env = RangeEnv(self.atoms, {**self.intervals, name: interval},
                       [n for n in self.order if n != name] + [name], set(self.nonnegative),
                       [*self.facts, interval.upper - interval.lower])
        if self.proves_nonnegative(interval.lower):
            env.nonnegative.add(name)
        return env

    def with_facts(self, facts: list[Poly]) -> RangeEnv:
        return RangeEnv(self.atoms, dict(self.intervals), list(self.order),
                        set(self.nonnegative), [*self.facts, *facts])

    # ----- proofs ----------------------------------------------------------------------
    def symbol_nonnegative(self, symbol: str) -> bool:
        if symbol in self.nonnegative:
            return True
        atom = self.atoms.get(symbol)
        return atom is not None and (atom.nonnegative or (
            atom.lower is not None and self._termwise(atom.lower)))

    def proves_nonnegative(self, poly: Poly) -> bool:
        """``poly >= 0`` wherever the access runs (one point of the loop box)."""
        for fact in [Poly(), *self.facts]:
            lows = self.extremes(poly - fact, lowest=True)
            if lows is not None and all(self._with_plain_facts(low) for low in lows):
                return True
        return False

    def proves_less(self, a: Poly, b: Poly) -> bool:
        """Every value ``a`` takes is below every value ``b`` takes (independent points)."""
        highs = self.extremes(a, lowest=False)
        lows = self.extremes(b, lowest=True)
        if highs is None or lows is None:
            return False
        return all(self._with_plain_facts(low - high - ONE) for high in highs for low in lows)

    def disjoint(self, a: Poly, b: Poly) -> bool:
        """The values ``a`` takes and those ``b`` takes never meet."""
        return self.proves_less(a, b) or self.proves_less(b, a)

    def within(self, poly: Poly, lower: Poly, upper: Poly) -> bool:
        """``lower <= poly <= upper`` at every point."""
        return self.proves_nonnegative(poly - lower) and self.proves_nonnegative(upper - poly)

    def _with_plain_facts(self, poly: Poly) -> bool:
        if self._termwise(poly):
            return True
        return any(self._termwise(poly - fact) for fact in self.facts
                   if not any(fact.mentions(n) for n in self.order))

    def _termwise(self, poly: Poly) -> bool:
        if poly.constant < 0:
            return False
        for monomial, coefficient in poly.terms.items():
            if monomial == ():
                continue
            if coefficient < 0 or not all(self.symbol_nonnegative(s) for s in monomial):
                return False
        return True

    # ----- extremes --------------------------------------------------------------------
    def extremes(self, poly: Poly, lowest: bool, depth: int = 0) -> list[Poly] | None:
        """Candidates free of loop variables whose minimum (``lowest``) or maximum is the
        polynomial's over the loop box; None when a loop variable appears non-linearly."""
        candidates = [poly]
        dependent = self._dependent_atoms(poly)
        if dependent is None:
            return None
        for name in [*dependent, *reversed(self.order)]:
            interval = dependent.get(name) or self.intervals[name]
            following: list[Poly] = []
            for candidate in candidates:
                if not candidate.mentions(name):
                    following.append(candidate)
                    continue
                try:
                    coefficient, rest = candidate.split(name)
                except ValueError:
                    return None
                at_lower = coefficient * interval.lower + rest
                at_upper = coefficient * interval.upper + rest
                if self._sign_known(coefficient, positive=True):
                    following.append(at_lower if lowest else at_upper)
                elif self._sign_known(coefficient, positive=False):
                    following.append(at_upper if lowest else at_lower)
                else:
                    following += [at_lower, at_upper]
            candidates = list(dict.fromkeys(following))
            if len(candidates) > _MAX_CANDIDATES:
                return None
        if any(c.mentions(n) for c in candidates for n in self.order):
            return None
        dependents = [self._dependent_atoms(c) for c in candidates]
        if any(d is None for d in dependents):
            return None  # a bound reads a loop variable through memory: not known before
        if any(dependents):  # bounds that read a variable, with known ranges
            if depth > 3:
                return None
            flattened: list[Poly] = []
            for candidate in candidates:
                found = self.extremes(candidate, lowest, depth + 1)
                if found is None:
                    return None
                flattened += found
            return list(dict.fromkeys(flattened))
        return candidates

    def _dependent_atoms(self, poly: Poly) -> dict[str, Interval] | None:
        """Atoms that read a loop variable (``(i + x) % n``, ``col[k]``): each with the
        interval it is known to stay in, eliminated like a variable; None when one has none
        (its value over the loop is not known before the loop runs)."""
        found: dict[str, Interval] = {}
        for symbol in poly.symbols():
            atom = self.atoms.get(symbol)
            if atom is None or not (set(atom.names) & set(self.order)):
                continue
            lower = atom.lower if atom.lower is not None else (
                Poly() if atom.nonnegative or self._nonnegative_remainder(atom) else None)
            if lower is None or atom.upper is None or any(
                    (lower.mentions(n) or atom.upper.mentions(n)) for n in self.order):
                return None
            found[symbol] = Interval(lower, atom.upper)
        return found

    def _nonnegative_remainder(self, atom) -> bool:
        """``e % m`` with ``e >= 0`` over the loop box lies in [0, m - 1] (C's remainder
        takes the sign of ``e``)."""
        return atom.kind == "modulo" and atom.numerator is not None and \
            self.proves_nonnegative(atom.numerator)

    def _sign_known(self, coefficient: Poly, positive: bool) -> bool:
        value = coefficient if positive else -coefficient
        if any(value.mentions(n) for n in self.order):
            lows = self.extremes(value, lowest=True)
            return lows is not None and all(self._termwise(low) for low in lows)
        return self._termwise(value)


def narrowed(env: RangeEnv, comparisons, index: Poly) -> tuple[RangeEnv, Poly]:
    """The env and index with the comparisons that hold at an access applied: ``v != lo``
    and ``v >= c`` narrow a loop variable's interval (``i != 0`` in the else branch of a
    boundary test), and a bounded expression of a variable (``r = i + di`` with ``0 <= r <
    n``) takes the variable's place in the index (so ``r * n + s`` ranges over [0, n*n)).
    ``comparisons`` are (left, op, right) polynomials."""
    env = RangeEnv(env.atoms, dict(env.intervals), list(env.order), set(env.nonnegative),
                   list(env.facts))
    groups: dict[Poly, list[tuple[str, Poly]]] = {}
    for left, op, right in comparisons:
        difference = left - right
        varying = Poly({m: c for m, c in difference.terms.items()
                        if any(s in env.order for s in m)})
        value = varying - difference  # varying op value
        for relation in ((op,) if op != "==" else ("<=", ">=")):
            groups.setdefault(varying, []).append((relation, value))
    for varying, limits in groups.items():
        variables = [v for v in env.order if varying.degree(v) == 1
                     and varying.split(v)[0] == ONE]
        if not variables:
            continue
        var = variables[-1]
        rest = varying - Poly.symbol(var)
        if rest != Poly():
            env, index = _substituted(env, var, rest, limits, index)
            continue
        interval = env.intervals[var]
        lower, upper = interval.lower, interval.upper
        for relation, value in limits:
            if relation == "!=" and value == lower:
                lower = lower + ONE
            elif relation == "!=" and value == upper:
                upper = upper - ONE
            elif relation in (">", ">="):
                candidate = value + (ONE if relation == ">" else Poly())
                if env.proves_nonnegative(candidate - lower):
                    lower = candidate
            elif relation in ("<", "<="):
                candidate = value - (ONE if relation == "<" else Poly())
                if env.proves_nonnegative(upper - candidate):
                    upper = candidate
        env.intervals[var] = Interval(lower, upper)
    return env, index


def _substituted(env: RangeEnv, var: str, rest: Poly, limits, index: Poly):
    """``t = var + rest`` bounded on both sides by the limits: the index in ``t`` instead of
    ``var``, when that removes ``var`` and the variables of ``rest`` cancel out."""
    lower = upper = None
    for relation, value in limits:
        if relation in (">", ">="):
            lower = value + (ONE if relation == ">" else Poly())
        elif relation in ("<", "<="):
            upper = value - (ONE if relation == "<" else Poly())
    if lower is None or upper is None or index.degree(var) != 1:
        return env, index
    fresh = f"ellora_bounded_{len(env.order)}_{var}"
    replaced = index.substitute({var: Poly.symbol(fresh) - rest})
    if replaced.mentions(var) or any(replaced.degree(v) > 1 for v in env.order):
        return env, index
    return env.with_interval(fresh, Interval(lower, upper)), replaced
