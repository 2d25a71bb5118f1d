"""Which values each input element gets (the sizes are the domain's business).

- An input used as an index takes the range the domain solved for it (sorted when it bounds
  a loop, as row offsets do).
- Other integers are small, so products and sums of many stay far from overflow: [-10, 10],
  widened to cover the literals the code compares with (``pages < 100``, ``== 7``), clipped to
  the type (unsigned from 0); a value the code divides by is never 0.
- Floating-point values lie in [-2, 2), widened to the literals compared with (``value < 90``);
  NaN-free unless the code tests for NaN (then every 17th value is NaN); a divisor stays at
  least 0.5 away from 0.
- Integer members of the elements of a container the function sorts are distinct (a
  shuffled range), so that an unstable sort and a parallel sort order them the same way.
- Integers a search tests for equality (``x[i] == target`` in a loop's exit test,
  ``std::find``) and never uses in arithmetic range over about ``size`` values
  ([-size/2, size/2] for the case's ``--size``, at least the small range): an array of
  ``size`` elements then holds the value about once, so across seeds the search finds it
  early, late, twice or not at all, and the timing measures a search that runs over the
  data (with [-10, 10] every search ends within about twenty elements).
- Characters are lowercase letters unless used as indices.
"""

from __future__ import annotations

from ellora.tools.loops.cxx_types import CType
from ellora.tools.synthesis.facts import Facts
from ellora.tools.synthesis.quantity import cpp_name

_TYPE_RANGES = {
    "char": (-128, 127), "signedchar": (-128, 127), "unsignedchar": (0, 255),
    "int8_t": (-128, 127), "std::int8_t": (-128, 127), "uint8_t": (0, 255),
    "std::uint8_t": (0, 255), "short": (-32768, 32767), "shortint": (-32768, 32767),
    "int16_t": (-32768, 32767), "std::int16_t": (-32768, 32767), "uint16_t": (0, 65535),
    "std::uint16_t": (0, 65535), "unsignedshort": (0, 65535),
}
LETTERS = (97, 122)


class ValueRules:
    """The value rules of one function (literals, divisors, sorts and NaN tests it has)."""

    def __init__(self, facts: Facts):
        scan = facts.scan
        literals = sorted(scan.literals)
        self.float_low = min([-2.0] + [v - 1.0 for v in literals])
        self.float_high = max([2.0] + [v + 1.0 for v in literals])
        integers = [int(v) for v in literals if v == int(v)]
        self.int_low = min([-10] + [v - 1 for v in integers])
        self.int_high = max([10] + [v + 1 for v in integers])
        self.divided = set(scan.divided_by)
        self.sorted_targets = set(scan.sort_targets)
        self.searched = set(scan.searched) - set(scan.arithmetic)
        self.nan = scan.tests_nan

    def vector(self, path: str, element: CType, count: str, domain) -> str:
        """A C++ expression: a std::vector of ``count`` values of ``element`` for ``path``."""
        spelled = _spelled(element)
        if element.kind == "bool":
            return f"ellora_synth::ints<int>(ellora_case, {count}, 0, 1)"
        if element.is_floating:
            away = "true" if path in self.divided else "false"
            nan = "true" if self.nan else "false"
            return (f"ellora_synth::reals<{spelled}>(ellora_case, {count}, {self.float_low!r}, "
                    f"{self.float_high!r}, {away}, {nan})")
        if not element.is_integer:
            raise ValueError(f"no value rule for {element.name}")
        if path in domain.ranges:
            low, high = (cpp_name(q) for q in domain.ranges[path])
            ordered = "true" if path in domain.sorted_sources else "false"
            return (f"ellora_synth::ints<{spelled}>(ellora_case, {count}, {low}, {high}, "
                    f"false, {ordered})")
        if self._sort_key(path):
            signed = "false" if element.is_unsigned else "true"
            return f"ellora_synth::distinct_ints<{spelled}>(ellora_case, {count}, {signed})"
        low, high = self.integer_range(element)
        nonzero = "true" if path in self.divided else "false"
        if self._searched(path, element):
            size = "static_cast<long long>(ellora_case.size())"
            if element.is_unsigned:
                low_text, high_text = "0LL", f"std::max({high}LL, {size})"
            else:
                low_text, high_text = f"std::min({low}LL, -{size} / 2)", \
                    f"std::max({high}LL, {size} / 2)"
            return (f"ellora_synth::ints<{spelled}>(ellora_case, {count}, {low_text}, "
                    f"{high_text}, {nonzero})")
        return (f"ellora_synth::ints<{spelled}>(ellora_case, {count}, {low}LL, {high}LL, "
                f"{nonzero})")

    def scalar(self, path: str, ctype: CType, domain) -> str:
        """A C++ expression for one value of ``ctype`` (a scalar parameter or member)."""
        spelled = _spelled(ctype)
        if ctype.kind == "complex":
            part = ctype.element or CType("scalar", "double")
            values = self.vector(path, part, "2LL", domain)
            return f"[&] {{ auto v = {values}; return {spelled}(v[0], v[1]); }}()"
        values = self.vector(path, ctype, "1LL", domain)
        return f"static_cast<{spelled}>({values}[0])"

    def char_range(self, path: str, domain) -> tuple[str, str]:
        if path in domain.ranges:
            return tuple(cpp_name(q) for q in domain.ranges[path])
        return f"{LETTERS[0]}LL", f"{LETTERS[1]}LL"

    def integer_range(self, ctype: CType) -> tuple[int, int]:
        compact = "".join(ctype.name.replace("const", "").split())
        if compact in ("char", "signedchar"):
            return LETTERS
        low, high = self.int_low, self.int_high
        type_low, type_high = _TYPE_RANGES.get(compact, (None, None))
        if ctype.is_unsigned:
            low = max(low, 0)
        if type_low is not None:
            low, high = max(low, type_low), min(high, type_high)
        return low, high

    def _searched(self, path: str, ctype: CType) -> bool:
        """An integer of at least 32 bits that a search tests for equality, never used in
        arithmetic (narrower types keep their own range)."""
        compact = "".join(ctype.name.replace("const", "").split())
        return path in self.searched and compact not in _TYPE_RANGES and \
            compact not in ("char", "signedchar", "unsignedchar", "bool")

    def _sort_key(self, path: str) -> bool:
        owner = path.rsplit(".", 1)[0] if "." in path else path
        return owner in self.sorted_targets

    def describe(self, path: str, ctype: CType | None) -> str:
        """A few words on the values ``path`` gets, for the harness's comment."""
        if ctype is None:
            return ""
        if ctype.kind == "struct":
            return f", each {ctype.name} member-wise"
        if ctype.kind == "complex":
            return f", real and imaginary parts in [{self.float_low:g}, {self.float_high:g})"
        if ctype.kind == "bool":
            return ", true or false"
        if ctype.kind == "string":
            return ", short lowercase strings"
        if ctype.is_floating:
            extra = " (kept 0.5 away from 0: the code divides by them)" if path in self.divided \
                else ""
            return f", values in [{self.float_low:g}, {self.float_high:g}){extra}"
        if ctype.is_integer:
            if self._sort_key(path):
                return ", distinct values (the code sorts them)"
            low, high = self.integer_range(ctype)
            if self._searched(path, ctype):
                span = "[0, size]" if ctype.is_unsigned else "[-size/2, size/2]"
                return (f", values in {span} (a search tests them for equality: about one "
                        "match per size values)")
            return f", values in [{low}, {high}]"
        return ""


def _spelled(ctype: CType) -> str:
    name = ctype.name
    return name.removeprefix("const ")
