"""The run-time test of a versioned loop: two container references are different objects,
and pointers touch ranges that are apart. The parallel code runs only when it holds."""

from __future__ import annotations

from ellora.tools.loops.emit.common import LoopText
from ellora.tools.loops.legality.arrays import access_env
from ellora.tools.loops.model import LoopModel

APART_HELPER = """\
// Ellora: whether elements [p0, p1] after p and [q0, q1] after q (sizes ps, qs) are apart.
static inline bool ellora_apart(const void* p, long long p0, long long p1, long long ps,
                                const void* q, long long q0, long long q1, long long qs) {
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t b = reinterpret_cast<std::uintptr_t>(q);
  const std::uintptr_t pb = a + (std::uintptr_t)(p0 * ps), pe = a + (std::uintptr_t)((p1 + 1) * ps);
  const std::uintptr_t qb = b + (std::uintptr_t)(q0 * qs), qe = b + (std::uintptr_t)((q1 + 1) * qs);
  return pe <= qb || qe <= pb;
}
"""
CHECK_INCLUDES = ("algorithm", "cstdint", "initializer_list")


def guard_declaration(text: LoopText) -> str:
    """``const bool ellora_disjoint_L = ...;`` (with a comment saying what it tests)."""
    verdict = text.verdict
    tests, names = [], []
    for check in verdict.object_checks:
        tests.append(f"static_cast<const void*>(&{check.first}) != "
                     f"static_cast<const void*>(&{check.second})")
        names.append(f"{check.first}/{check.second}")
    ranges: list[str] = []
    for check in verdict.range_checks:
        names.append(f"{check.first}/{check.second}")
        first, second = _address(text, check.first), _address(text, check.second)
        lines_first = _touched(text.model, check.first, "a")
        lines_second = _touched(text.model, check.second, "b")
        key = len(ranges)
        ranges.append(f"const ellora_ll ellora_{key}_a0 = {lines_first[0]}, "
                      f"ellora_{key}_a1 = {lines_first[1]};")
        ranges.append(f"const ellora_ll ellora_{key}_b0 = {lines_second[0]}, "
                      f"ellora_{key}_b1 = {lines_second[1]};")
        apart = (f"ellora_apart({first}, ellora_{key}_a0, ellora_{key}_a1, sizeof(*{first}), "
                 f"{second}, ellora_{key}_b0, ellora_{key}_b1, sizeof(*{second}))")
        if check.same_index:
            apart = (f"(static_cast<const void*>({first}) == static_cast<const void*>({second})"
                     f" || {apart})")
        tests.append(apart)
    pairs = ", ".join(names)
    if ranges:
        lo, hi = text.header.lower_text, text.header.upper_text
        body = "\n  ".join([
            "typedef long long ellora_ll;",
            f"if ((ellora_ll)({hi}) <= (ellora_ll)({lo})) return true;  // no iteration",
            *ranges, "return " + "\n      && ".join(tests) + ";"])
        value = f"[&]() -> bool {{\n  {body}\n}}()"
    else:
        value = "\n    && ".join(tests)
    return (f"// Ellora: {pairs} may share storage; the parallel loop runs only when they do "
            f"not\n// (otherwise the original loop runs).\n"
            f"const bool {text.guard} = {value};\n")


def _address(text: LoopText, base: str) -> str:
    ctype = text.model.bases[base].ctype
    if ctype.kind in ("pointer", "array"):
        return base
    return f"{base}.data()"


def _touched(model: LoopModel, base: str, tag: str) -> tuple[str, str]:
    """C++ expressions of the lowest and highest index the loop touches through ``base``."""
    lows, highs = [], []
    for access in model.accesses:
        if access.base != base:
            continue
        env = access_env(model, access)
        index = access.indices[0]
        lows += env.extremes(index, lowest=True)
        highs += env.extremes(index, lowest=False)
    return _extreme("min", lows, model), _extreme("max", highs, model)


def _extreme(which: str, values, model: LoopModel) -> str:
    spelled = list(dict.fromkeys(_as_long_long(v, model) for v in values))
    if len(spelled) == 1:
        return spelled[0]
    return f"std::{which}<ellora_ll>({{{', '.join(spelled)}}})"


def _as_long_long(poly, model: LoopModel) -> str:
    atoms = model.function.atoms
    return "(" + poly.render(lambda s: f"(ellora_ll)({atoms.get(s).text if atoms.get(s) else s})"
                            ) + ")"
