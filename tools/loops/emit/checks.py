"""The run-time test of a versioned loop: two container references are different objects,
and pointers touch ranges that are apart. The parallel code runs only when it holds.

The range a pointer is touched over comes from the loop box when the subscripts are
polynomials in the loop variables (their extremes lie at the box's corners); a subscript
that reads memory (CSR ``x[cols[k]]`` with ``k`` from ``rowPtr[i]`` to ``rowPtr[i + 1]``)
is bounded by replaying the loop headers before the loop and evaluating it. A segmented
nest whose segment starts never decrease is replayed as one flat loop.
"""

from __future__ import annotations

from ellora.tools.loops.emit.common import LoopText
from ellora.tools.loops.legality.arrays import access_env, flat_index
from ellora.tools.loops.model import Access, LoopModel

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
APART_HELPER_C = """\
// Ellora: whether elements [p0, p1] after p and [q0, q1] after q (sizes ps, qs) are apart.
static inline bool ellora_apart(const void* p, long long p0, long long p1, long long ps,
                                const void* q, long long q0, long long q1, long long qs) {
  const uintptr_t a = (uintptr_t)p, b = (uintptr_t)q;
  const uintptr_t pb = a + (uintptr_t)(p0 * ps), pe = a + (uintptr_t)((p1 + 1) * ps);
  const uintptr_t qb = b + (uintptr_t)(q0 * qs), qe = b + (uintptr_t)((q1 + 1) * qs);
  return pe <= qb || qe <= pb;
}
static inline long long ellora_min_ll(long long a, long long b) { return a < b ? a : b; }
static inline long long ellora_max_ll(long long a, long long b) { return a > b ? a : b; }
"""
CHECK_INCLUDES_C = ("stdbool.h", "stdint.h", "limits.h")
# What the comment above every overlap test says (the data set reads ports by it).
OVERLAP_GUARD = "may overlap; the parallel loop runs only when they do not"
CHECK_INCLUDES = ("algorithm", "cstdint", "initializer_list", "limits", "utility", "vector")


def guard_declaration(text: LoopText) -> str:
    """``const bool ellora_disjoint_L = ...;`` (with a comment saying what it tests); in a
    C file (``text.c_dialect``) the same test as C statements."""
    verdict = text.verdict
    c = text.c_dialect
    if c and (verdict.row_checks or verdict.object_checks or verdict.extent_checks):
        from ellora.tools.loops.emit.common import NotEmittable

        what = ("of rows reached through pointers" if verdict.row_checks else
                "of references or .at() bounds")  # C++ constructs; cannot occur in C itself
        raise NotEmittable(f"the run-time test {what} is written in C++, and this file is C")
    tests, names, lines = [], [], []
    for check in verdict.object_checks:
        tests.append(f"static_cast<const void*>(&{check.first}) != "
                     f"static_cast<const void*>(&{check.second})")
        names.append(f"{check.first}/{check.second}")
    ranges: dict[str, tuple[str, str]] = {}
    for check in verdict.range_checks:
        names.append(f"{check.first}/{check.second}")
        for base in (check.first, check.second):
            if base not in ranges:
                ranges[base] = _touched(text, base, f"ellora_r{len(ranges)}", lines)
        first, second = _address(text, check.first), _address(text, check.second)
        (a0, a1), (b0, b1) = ranges[check.first], ranges[check.second]
        apart = (f"ellora_apart({first}, {a0}, {a1}, sizeof(*{first}), "
                 f"{second}, {b0}, {b1}, sizeof(*{second}))")
        if check.same_index:
            apart = (f"((const void*)({first}) == (const void*)({second}) || {apart})" if c
                     else f"(static_cast<const void*>({first}) == "
                          f"static_cast<const void*>({second}) || {apart})")
        tests.append(apart)
    for check in verdict.block_checks:
        names.append(f"{check.base}'s blocks")
        low = _extreme("min", check.lows, text.model, c)
        high = _extreme("max", check.highs, text.model, c)
        tests.append(f"({low} >= 0 && {high} <= (ellora_ll)({_cxx(text.model, check.step)}) - 1)")
    for check in verdict.extent_checks:
        names.append(f"{check.base}.at()")
        if check.base not in ranges:
            ranges[check.base] = _touched(text, check.base, f"ellora_r{len(ranges)}", lines)
        low, high = ranges[check.base]
        tests.append(f"({low} >= 0 && {high} < (ellora_ll)({check.base}.size()))")
    if verdict.row_checks:
        names.append("rows reached through pointers")
        lines += _row_spans(text)
        tests.append("ellora_rows_apart")
    pairs = ", ".join(names)
    comment = (f"// Ellora: {pairs} {OVERLAP_GUARD}\n// (otherwise the original loop runs).\n"
               if verdict.object_checks or verdict.range_checks or verdict.block_checks or
               verdict.row_checks else
               f"// Ellora: {pairs} may throw past the end; the parallel loop runs only when "
               "every index is in range\n// (otherwise the original loop runs).\n")
    lo, hi = text.header.lower_text, text.header.upper_text
    if c:  # C has no lambda: a block that breaks out where the C++ lambda returns
        body = "\n  ".join([
            "typedef long long ellora_ll;",
            f"if ((ellora_ll)({hi}) <= (ellora_ll)({lo})) break;  // no iteration",
            *(line.replace("return false;", f"{{ {text.guard} = false; break; }}")
              for line in lines),
            f"{text.guard} = " + "\n        && ".join(tests) + ";"])
        return f"{comment}bool {text.guard} = true;\ndo {{\n  {body}\n}} while (0);\n"
    if ranges or verdict.block_checks or verdict.row_checks:
        body = "\n  ".join([
            "typedef long long ellora_ll;",
            f"if ((ellora_ll)({hi}) <= (ellora_ll)({lo})) return true;  // no iteration",
            *lines, "return " + "\n      && ".join(tests) + ";"])
        value = f"[&]() -> bool {{\n  {body}\n}}()"
    else:
        value = "\n    && ".join(tests)
    return f"{comment}const bool {text.guard} = {value};\n"


def _row_spans(text: LoopText) -> list[str]:
    """Lines computing ``ellora_rows_apart``: the byte spans the loop touches through the
    bases of its row checks (each row reached through a pointer, each other array's
    range), sorted by address; apart when no span of a written base meets another span."""
    from ellora.tools.loops.bounds import narrowed
    from ellora.tools.loops.legality.pointer_rows import pointer_rows

    model = text.model
    written = set(model.written_bases())
    lines = [("// (start, (end, written)) of every span"
             "\nstd::vector<std::pair<std::uintptr_t, std::pair<std::uintptr_t, bool>>> "
             "ellora_spans;")]
    bases = list(dict.fromkeys(name for check in text.verdict.row_checks for name in check.bases))
    for position, name in enumerate(bases):
        flag = "true" if name in written else "false"
        if not pointer_rows(model.bases[name]):
            low, high = _touched(text, name, f"ellora_s{position}", lines)
            address = _address(text, name)
            lines.append(f"if ({low} <= {high}) ellora_spans.push_back({{"
                         f"reinterpret_cast<std::uintptr_t>({address} + {low}), {{"
                         f"reinterpret_cast<std::uintptr_t>({address} + {high} + 1), {flag}}}}});")
            continue
        extremes: list[tuple[list, list]] = [([], []), ([], [])]
        for access in model.accesses_of(name):
            env = access_env(model, access)
            for dimension in (0, 1):
                env_d, index = narrowed(env, [(c.left, c.op, c.right)
                                              for c in access.conditions],
                                        access.indices[dimension])
                extremes[dimension][0].extend(env_d.extremes(index, lowest=True))
                extremes[dimension][1].extend(env_d.extremes(index, lowest=False))
        (rows_low, rows_high), (cols_low, cols_high) = [
            (_extreme("min", lows, model), _extreme("max", highs, model))
            for lows, highs in extremes]
        lines += [
            f"for (ellora_ll r = {rows_low}; r <= {rows_high}; ++r)",
            (f"  if ({cols_low} <= {cols_high}) ellora_spans.push_back({{"
            f"reinterpret_cast<std::uintptr_t>({name}[r] + {cols_low}), {{"
            f"reinterpret_cast<std::uintptr_t>({name}[r] + {cols_high} + 1), {flag}}}}});")]
    lines += [
        "std::sort(ellora_spans.begin(), ellora_spans.end());",
        "std::uintptr_t ellora_reach = 0, ellora_written_reach = 0;",
        "bool ellora_rows_apart = true;",
        "for (const auto& ellora_span : ellora_spans) {",
        ("  const std::uintptr_t ellora_b = ellora_span.first, "
         "ellora_e = ellora_span.second.first;"),
        ("  if (ellora_b < ellora_written_reach || (ellora_span.second.second && "
         "ellora_b < ellora_reach)) { ellora_rows_apart = false; break; }"),
        "  ellora_reach = std::max(ellora_reach, ellora_e);",
        ("  if (ellora_span.second.second) ellora_written_reach = "
         "std::max(ellora_written_reach, ellora_e);"),
        "}"]
    return lines


def _address(text: LoopText, base: str) -> str:
    """A pointer to the base's first element (``&a[0][0]`` for a C array of arrays, whose
    rows lie one after another)."""
    ctype = text.model.bases[base].ctype
    if ctype.kind in ("pointer", "array"):
        depth = 0
        while ctype.element is not None and ctype.element.kind == "array":
            ctype, depth = ctype.element, depth + 1
        return f"&{base}{'[0]' * (depth + 1)}" if depth else base
    return f"{base}.data()"


def _touched(text: LoopText, base: str, name: str, lines: list[str]) -> tuple[str, str]:
    """Names of the lowest and highest index the loop touches through ``base`` (their
    computation appended to ``lines``)."""
    model = text.model
    lows, highs, replays = [], [], []
    from ellora.tools.loops.bounds import narrowed

    for access in model.accesses:
        if access.base != base:
            continue
        env, index = narrowed(access_env(model, access), [
            (c.left, c.op, c.right) for c in access.conditions], flat_index(model, access))
        low, high = env.extremes(index, lowest=True), env.extremes(index, lowest=False)
        if low is None or high is None:
            replays.append(access)
            continue
        lows += low
        highs += high
    symbolic_low = _extreme("min", lows, model, text.c_dialect) if lows else None
    symbolic_high = _extreme("max", highs, model, text.c_dialect) if highs else None
    if not replays:
        lines.append(f"const ellora_ll {name}_lo = {symbolic_low}, {name}_hi = {symbolic_high};")
        return f"{name}_lo", f"{name}_hi"
    if text.c_dialect:
        lines.append(f"ellora_ll {name}_lo = LLONG_MAX, {name}_hi = LLONG_MIN;")
    else:
        lines.append(f"ellora_ll {name}_lo = std::numeric_limits<ellora_ll>::max(), "
                     f"{name}_hi = std::numeric_limits<ellora_ll>::lowest();")
    for access in replays:
        lines += _replay(text, access, name)
    lines.append(f"if ({name}_lo > {name}_hi) return false;  // never touched: stay serial")
    if symbolic_low is not None and text.c_dialect:
        lines.append(f"{name}_lo = ellora_min_ll({name}_lo, {symbolic_low}); "
                     f"{name}_hi = ellora_max_ll({name}_hi, {symbolic_high});")
    elif symbolic_low is not None:
        lines.append(f"{name}_lo = std::min<ellora_ll>({name}_lo, {symbolic_low}); "
                     f"{name}_hi = std::max<ellora_ll>({name}_hi, {symbolic_high});")
    return f"{name}_lo", f"{name}_hi"


def _replay(text: LoopText, access: Access, name: str) -> list[str]:
    """Lines running the loop headers around ``access`` and folding its subscript into the
    running lowest and highest values."""
    model = text.model
    index = _cxx(model, flat_index(model, access))
    update = (f"{{ const ellora_ll ellora_v = (ellora_ll)({index}); "
              f"if (ellora_v < {name}_lo) {name}_lo = ellora_v; "
              f"if (ellora_v > {name}_hi) {name}_hi = ellora_v; }}")
    nest = [model.header, *access.loops]
    flat = _flat_segments(model, nest, access)
    lines = []
    if flat is not None:
        segments, outer, inner = flat
        first, last = f"(ellora_ll)({outer.lower_text})", f"(ellora_ll)({outer.upper_text})"
        lines += [
            "{  // segment starts that never decrease cover one flat range",
            "  long long ellora_drops = 0;",
            (f"  for (ellora_ll {outer.var} = {first}; {outer.var} + 1 < {last}; ++{outer.var}) "
            f"ellora_drops += {segments}[{outer.var}] > {segments}[{outer.var} + 1];"),
            "  if (ellora_drops == 0) {",
            (f"    if ({first} < {last}) for (ellora_ll {inner.var} = {segments}[{first}]; "
            f"{inner.var} < (ellora_ll){segments}[{last}]; ++{inner.var}) {update}"),
            "  } else {",
        ]
        lines += ["    " + line for line in _nest_lines(nest, update)]
        lines += ["  }", "}"]
        return lines
    return _nest_lines(nest, update)


def _nest_lines(nest, update: str) -> list[str]:
    lines, pad = [], ""
    for header in nest:
        step = "++" + header.var if header.step_text == "1" else \
            f"{header.var} += {header.step_text}"
        lines.append(f"{pad}for (ellora_ll {header.var} = (ellora_ll)({header.lower_text}); "
                     f"{header.var} < (ellora_ll)({header.upper_text}); {step}) {{")
        pad += "  "
    lines.append(pad + update)
    for _ in nest:
        pad = pad[:-2]
        lines.append(pad + "}")
    return lines


def _flat_segments(model: LoopModel, nest, access: Access):
    """(array A, outer, inner) when the nest is ``for i: for k in [A[i], A[i + 1])`` and
    the subscript does not read ``i``; None otherwise."""
    if len(nest) != 2:
        return None
    outer, inner = nest
    atoms = model.function.atoms
    lower = [atoms.get(s) for s in inner.lower.symbols()]
    upper = [atoms.get(s) for s in inner.upper.symbols()]
    if len(lower) != 1 or len(upper) != 1 or None in lower + upper:
        return None
    (start,), (end,) = lower, upper
    if inner.lower != _symbol(start.key) or inner.upper != _symbol(end.key):
        return None
    if start.kind != "load" or end.kind != "load" or start.base != end.base:
        return None
    var = _symbol(outer.var)
    if start.index != var or end.index != var + 1 or not outer.unit_step:
        return None
    if access.indices[0].mentions(outer.var) or any(
            outer.var in (atoms.get(s).names if atoms.get(s) else ())
            for s in access.indices[0].symbols()):
        return None
    return start.base, outer, inner


def _symbol(name: str):
    from ellora.tools.loops.expr import Poly

    return Poly.symbol(name)


def _extreme(which: str, values, model: LoopModel, c: bool = False) -> str:
    spelled = list(dict.fromkeys(f"(ellora_ll)({_cxx(model, v)})" for v in values))
    if len(spelled) == 1:
        return spelled[0]
    if c:  # C: the two-operand helpers, nested
        folded = spelled[-1]
        for value in reversed(spelled[:-1]):
            folded = f"ellora_{which}_ll({value}, {folded})"
        return folded
    return f"std::{which}<ellora_ll>({{{', '.join(spelled)}}})"


def _cxx(model: LoopModel, poly) -> str:
    """A polynomial as C++ evaluated in long long (every symbol cast first)."""
    atoms = model.function.atoms
    return poly.render(lambda s: f"(ellora_ll)({atoms.get(s).text if atoms.get(s) else s})")
