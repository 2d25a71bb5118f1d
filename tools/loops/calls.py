"""The one table of what library calls do, for the dependence rules.

A call inside a loop is safe to run in parallel when it only computes a value from its
arguments (``std::sqrt``, ``std::min``, ``std::polar``), only reads a range the loop does not
write (``std::lower_bound(v.begin(), v.end(), x)``), or is a const member of a container
(``x.size()``, ``s.empty()``). Members that change a container (``push_back``, ``resize``,
``std::map::operator[]``) and calls whose effects are unknown are obstacles, named as such.
"""

from __future__ import annotations

from dataclasses import dataclass

_MATH = {
    "sqrt", "cbrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "pow", "sin",
    "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh",
    "atanh", "fabs", "abs", "labs", "llabs", "floor", "ceil", "round", "lround", "llround",
    "trunc", "rint", "nearbyint", "fmod", "remainder", "hypot", "fmin", "fmax", "fma", "fdim",
    "copysign", "erf", "erfc", "tgamma", "lgamma", "isnan", "isinf", "isfinite", "isnormal",
    "signbit", "frexp", "ldexp", "modf", "logb", "ilogb", "nextafter", "min", "max", "clamp",
    "conj", "real", "imag", "norm", "arg", "polar", "proj",
}
PURE_FUNCTIONS = (
    _MATH
    | {f"{name}f" for name in _MATH}
    | {f"std::{name}" for name in _MATH}
    | {
        "std::popcount", "std::countr_zero", "std::countl_zero", "std::bit_width",
        "std::has_single_bit", "std::bit_ceil", "std::bit_floor", "std::gcd", "std::lcm",
        "__builtin_ctz", "__builtin_ctzl", "__builtin_ctzll", "__builtin_clz",
        "__builtin_clzl", "__builtin_clzll", "__builtin_popcount", "__builtin_popcountl",
        "__builtin_popcountll", "__builtin_parity", "__builtin_expect", "__builtin_fabs",
        "std::make_pair", "std::tie", "std::size", "std::isdigit", "std::isalpha",
        "std::isspace", "std::isupper", "std::islower", "std::tolower", "std::toupper",
        "isdigit", "isalpha", "isspace", "isupper", "islower", "tolower", "toupper",
        "std::move", "std::forward", "std::numeric_limits::max", "std::numeric_limits::min",
        "std::numeric_limits::lowest", "std::numeric_limits::infinity",
        "std::numeric_limits::epsilon", "std::numeric_limits::quiet_NaN",
    }
)
# Algorithms that only read the ranges they are given (iterators into containers).
RANGE_READERS = {
    "std::lower_bound", "std::upper_bound", "std::binary_search", "std::equal_range",
    "std::find", "std::find_if", "std::find_if_not", "std::count", "std::count_if",
    "std::distance", "std::accumulate", "std::reduce", "std::inner_product",
    "std::min_element", "std::max_element", "std::minmax_element", "std::equal",
    "std::all_of", "std::any_of", "std::none_of", "std::mismatch", "std::search",
    "std::adjacent_find", "std::is_sorted", "std::next", "std::prev", "std::begin",
    "std::end", "std::cbegin", "std::cend", "std::data", "std::empty",
}
# Members that read a container (or a complex value) and change nothing.
CONST_MEMBERS = {
    "size", "length", "empty", "data", "begin", "end", "cbegin", "cend", "rbegin", "rend",
    "front", "back", "at", "capacity", "real", "imag", "find", "count", "contains", "top",
    "c_str", "substr", "compare", "extent", "span",
}
# Members that change the object they are called on.
MUTATING_MEMBERS = {
    "push_back", "emplace_back", "push", "emplace", "pop", "pop_back", "pop_front",
    "push_front", "insert", "erase", "resize", "clear", "reserve", "assign", "swap",
    "shrink_to_fit", "append", "fill", "sort", "reverse",
}
# Free functions that write through their arguments: index of each written argument.
ARGUMENT_WRITERS = {"std::swap": (0, 1), "swap": (0, 1), "std::iter_swap": (0, 1)}


@dataclass(frozen=True)
class CallEffect:
    """What a call does: ``pure`` (a value from its arguments), ``reads`` (reads the ranges
    of ``objects``), ``const_member`` / ``mutates`` (a member of ``objects[0]``),
    ``writes_arguments`` (``written`` argument positions), ``constructs`` (a value of a
    type), ``user_pure`` (a function of this file proved pure) or ``unknown``."""

    kind: str
    name: str
    objects: tuple[str, ...] = ()
    written: tuple[int, ...] = ()

    @property
    def safe(self) -> bool:
        return self.kind in ("pure", "reads", "const_member", "constructs", "user_pure")


def classify_name(name: str) -> str | None:
    """The table's word for a free function name (template arguments removed), or None."""
    if name in PURE_FUNCTIONS:
        return "pure"
    if name in RANGE_READERS:
        return "reads"
    if name in ARGUMENT_WRITERS:
        return "writes_arguments"
    return None
