"""The smallest and largest index an access touches, as polynomials free of loop variables.

Built on :class:`ellora.tools.loops.bounds.RangeEnv`: before its extremes are taken, symbols
the harness chooses values for are replaced (a load ``col[k]`` of an input becomes a
*placeholder* whose range the domain solver fixes, a local defined once becomes its
definition, a character literal its code), and the comparisons that hold where the access
runs narrow the loop ranges: ``if (i > 0) u[i - 1]`` reads from 0, and
``if (x >= 0 && x < n) a[x * n + y]`` with ``x = i + k`` reads rows 0..n-1 (the guarded
expression becomes a variable of its own, with the range the guard gives it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ellora.tools.loops.bounds import Interval, RangeEnv
from ellora.tools.loops.expr import ONE, Poly

PLACEHOLDER = "ellora@"
_GUARDED = "ellora_guard"


class Unbounded(ValueError):
    """An index whose range the analysis cannot bound; the message names what is missing."""


@dataclass
class SymbolMap:
    """How the symbols of a function's polynomials are replaced before range reasoning.

    ``replace(symbol)`` returns a polynomial for a symbol (a local's definition, a
    placeholder for a value the harness chooses, a constant) or None to keep it."""

    replace: Callable[[str], Poly | None]
    cache: dict[str, Poly] = field(default_factory=dict)

    def __call__(self, poly: Poly, depth: int = 0) -> Poly:
        values = {}
        for symbol in poly.symbols():
            if symbol not in self.cache:
                found = self.replace(symbol)
                if found is not None and depth < 6 and found != Poly.symbol(symbol):
                    found = self(found, depth + 1)
                self.cache[symbol] = found if found is not None else Poly.symbol(symbol)
            values[symbol] = self.cache[symbol]
        return poly.substitute(values)


@dataclass
class Candidates:
    """Polynomials (free of loop variables) among which lie the largest (``upper``) and the
    smallest (``lower``) value an index takes."""

    upper: list[Poly]
    lower: list[Poly]


def index_candidates(model, access, index: Poly, mapping: SymbolMap,
                     extra: dict[str, Interval] | None = None) -> Candidates:
    """The extremes of one index of ``access`` in ``model`` (Unbounded when a loop variable
    cannot be eliminated); ``extra`` ranges for symbols the mapping introduces (clamped
    locals) join the loop ranges."""
    env = mapped_env(model.env(access.loops), mapping)
    poly = mapping(index)
    for symbol, interval in (extra or {}).items():
        if poly.mentions(symbol):
            env = env.with_interval(symbol, interval)
    conditions = [(mapping(c.left), c.op, mapping(c.right)) for c in access.conditions]
    narrowed, substituted = narrow(env, conditions, poly)
    for current_env, current in ((narrowed, substituted), (env, poly)):
        upper = current_env.extremes(current, lowest=False)
        lower = current_env.extremes(current, lowest=True)
        if upper is not None and lower is not None:
            return Candidates(upper, lower)
    raise Unbounded("a loop variable enters it in a way the range rules cannot follow")


def mapped_env(env: RangeEnv, mapping: SymbolMap) -> RangeEnv:
    """``env`` with every interval bound and fact passed through ``mapping``."""
    intervals = {name: Interval(mapping(i.lower), mapping(i.upper))
                 for name, i in env.intervals.items()}
    return RangeEnv(env.atoms, intervals, list(env.order), set(env.nonnegative),
                    [mapping(f) for f in env.facts])


def narrow(env: RangeEnv, conditions: list[tuple[Poly, str, Poly]], poly: Poly
           ) -> tuple[RangeEnv, Poly]:
    """``env`` with loop ranges cut by ``conditions`` (each ``left op right`` holds where
    the access runs), and ``poly`` with guarded composite expressions replaced by variables
    whose ranges the guards give."""
    facts = []
    for left, op, right in conditions:
        facts += _facts_of(env, left, op, right)
    intervals = dict(env.intervals)
    groups: dict[Poly, list[Poly | None]] = {}
    for fact in facts:
        varying, rest = _split_loop_part(fact, env.order)
        if varying is None or varying == Poly():
            continue
        sign = _leading_sign(varying)
        if sign is None:
            continue
        lead = varying * sign  # sign * lead + rest >= 0
        bound_low, bound_high = (-rest, None) if sign > 0 else (None, rest)
        variables = [v for v in env.order if lead.mentions(v)]
        if len(variables) == 1 and lead == Poly.symbol(variables[0]):
            _tighten(env, intervals, variables[0], bound_low, bound_high)
        else:
            slot = groups.setdefault(lead, [None, None])
            if bound_low is not None:
                slot[0] = bound_low
            if bound_high is not None:
                slot[1] = bound_high
    narrowed = RangeEnv(env.atoms, intervals, list(env.order), set(env.nonnegative),
                        list(env.facts))
    for number, (lead, (low, high)) in enumerate(groups.items()):
        poly, narrowed = _guard_variable(narrowed, lead, low, high, poly, number)
    return narrowed, poly


def _facts_of(env: RangeEnv, left: Poly, op: str, right: Poly) -> list[Poly]:
    """Polynomials known to be >= 0 from ``left op right`` (integers)."""
    from ellora.tools.loops.legality.arrays import comparison_facts
    from ellora.tools.loops.model import Comparison

    if op != "!=":
        return comparison_facts(Comparison(left, op, right))
    if op == "!=":  # v != its first value: the range starts one later (and the last, one earlier)
        for variable, other in ((left, right), (right, left)):
            names = [n for n in env.order if variable == Poly.symbol(n)]
            if names:
                interval = env.intervals[names[0]]
                if other == interval.lower:
                    return [variable - other - ONE]
                if other == interval.upper:
                    return [other - variable - ONE]
    return []


def _split_loop_part(fact: Poly, order: list[str]) -> tuple[Poly | None, Poly]:
    varying, rest = {}, {}
    for monomial, coefficient in fact.terms.items():
        loop_symbols = [s for s in monomial if s in order]
        if not loop_symbols:
            rest[monomial] = coefficient
        elif len(monomial) == 1:
            varying[monomial] = coefficient
        else:
            return None, Poly(rest)  # a loop variable times something: not a range cut
    return Poly(varying), Poly(rest)


def _leading_sign(varying: Poly) -> int | None:
    coefficients = list(varying.terms.values())
    if all(abs(c) == 1 for c in coefficients):
        first = varying.terms[min(varying.terms)]
        return 1 if first > 0 else -1
    return None


def _tighten(env: RangeEnv, intervals: dict, variable: str, low: Poly | None,
             high: Poly | None) -> None:
    """Replace a bound of ``variable`` by the guard's when the guard's is provably tighter
    (both hold inside the guard, so either alone is sound)."""
    current = intervals[variable]
    lower, upper = current.lower, current.upper
    if low is not None and (_at_least(env, low, lower) or _constant_above(low, lower)):
        lower = low
    if high is not None and (_at_least(env, upper, high) or _constant_above(upper, high)):
        upper = high
    intervals[variable] = Interval(lower, upper)


def _at_least(env: RangeEnv, a: Poly, b: Poly) -> bool:
    """``a >= b`` for every value of the invariants (termwise, non-negative symbols)."""
    difference = a - b
    if difference.constant < 0:
        return False
    return all(coefficient >= 0 and all(env.symbol_nonnegative(s) for s in monomial)
               for monomial, coefficient in difference.terms.items() if monomial != ())


def _constant_above(a: Poly, b: Poly) -> bool:
    va, vb = a.const_value(), b.const_value()
    return va is not None and vb is not None and va >= vb


def _guard_variable(env: RangeEnv, lead: Poly, low: Poly | None, high: Poly | None,
                    poly: Poly, number: int) -> tuple[Poly, RangeEnv]:
    """Rewrite ``poly`` through a fresh variable G = ``lead`` whose range the guards give
    (the other end from ``lead``'s own extremes when only one guard is known)."""
    if low is None:
        lows = env.extremes(lead, lowest=True)
        low = lows[0] if lows and len(lows) == 1 else None
    if high is None:
        highs = env.extremes(lead, lowest=False)
        high = highs[0] if highs and len(highs) == 1 else None
    if low is None or high is None:
        return poly, env
    variables = [v for v in env.order if lead.mentions(v)]
    pivot = variables[-1]  # the innermost variable of the guarded expression
    coefficient = lead.terms[(pivot,)]
    guard = Poly.symbol(f"{_GUARDED}{number}")
    others = lead - Poly.symbol(pivot) * coefficient
    replacement = (guard - others) * coefficient  # coefficient is +1 or -1
    rewritten = poly.substitute({pivot: replacement})
    if any(rewritten.mentions(v) for v in variables):
        return poly, env  # the guard does not describe this index: keep the loop ranges
    extended = env.with_interval(f"{_GUARDED}{number}", Interval(low, high))
    return rewritten, extended
