"""Scatter-adds (histograms, COO products) through per-thread private copies, not atomics.

An update ``counts[b] += v`` that iterations may share is correct with an atomic, but an
atomic on a few hot bins costs more than the serial loop: the threads fight over the same
cache lines. Each thread instead adds into its own copy, grown on demand up to the largest
index it meets (indices past ``PRIVATE_LIMIT`` or negative fall back to an atomic on the
shared array), and adds its nonzero entries into the shared array once at the end. Every
update lands exactly once, so integer results equal the serial loop's; floating-point sums
are reassociated, as with atomics.
"""

from __future__ import annotations

import re

from ellora.tools.cpp_syntax import text
from ellora.tools.loop_analysis import LoopFacts

PRIVATE_LIMIT = 1 << 22  # elements a thread's private copy may grow to

# Private copies grow geometrically and never below 4 KiB: tiny copies of two threads
# would share cache lines (measured: 2 threads no faster than 1 on a 64-bin histogram).
GROWTH_HELPER = """\
// Ellora: the size a thread's private copy grows to so that index k fits.
static inline std::size_t ellora_grown(std::size_t k, std::size_t size, std::size_t bytes) {
  std::size_t grown = size * 2 > k + 1 ? size * 2 : k + 1;
  const std::size_t least = 4096 / bytes + 1;
  return grown > least ? grown : least;
}
"""


def privatizable(facts: LoopFacts) -> bool:
    """Atomic updates only (no reduction, scan or search beside them)."""
    return bool(facts.atomic_arrays) and not (
        facts.reductions or facts.scan or facts.search or facts.locate
    )


_SCALAR_TYPES = re.compile(
    r"(?:(?:unsigned|signed|short|long|int|char|bool|float|double)\s*)+"
    r"|(?:std::)?(?:u?int(?:8|16|32|64)_t|size_t|ptrdiff_t)"
)


def firstprivate_names(loop) -> list[str]:
    """Scalars and pointers declared before the loop that it reads but never assigns: each
    thread gets its own copy (its own stack line), so the hot loop reads no shared frame
    the master thread writes next to."""
    from ellora.tools.cpp_syntax import enclosing, walk, write_target

    function = enclosing(loop, "function_definition")
    if function is None:
        return []
    declared: set[str] = set()
    for node in walk(function):
        if node.type not in ("parameter_declaration", "declaration") or (
                node.start_byte >= loop.start_byte):
            continue
        scope = node.parent  # a declaration in another loop's header or block is not seen
        if node.type == "declaration" and not (
                scope.start_byte <= loop.start_byte and loop.end_byte <= scope.end_byte):
            continue
        type_node = node.child_by_field_name("type")
        scalar = type_node is not None and bool(  # const is a qualifier beside the type
            _SCALAR_TYPES.fullmatch(" ".join(text(type_node).split())))
        for child in node.children:
            target = child.child_by_field_name("declarator") if child.type == "init_declarator" \
                else child
            if target is None:
                continue
            if target.type == "pointer_declarator" and (
                    target.child_by_field_name("declarator") or target).type == "identifier":
                declared.add(text(target.child_by_field_name("declarator")))
            elif target.type == "identifier" and scalar:
                declared.add(text(target))
    written = {text(t).strip() for t in map(write_target, walk(loop)) if t is not None}
    used = {text(n) for n in walk(loop) if n.type == "identifier"}
    return sorted((declared & used) - written)


def _split_target(target: str) -> tuple[str, str] | None:
    """``A[index]`` -> (A, index) for a one-dimensional subscript, else None."""
    match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*\[(.*)\]\s*", target, re.DOTALL)
    if match is None:
        return None
    depth = 0
    for position, char in enumerate(match.group(2)):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth < 0:
            return None  # A[i][j]: the first bracket closes early
    return (match.group(1), match.group(2)) if depth == 0 else None


def _private_update(array: str, index: str, operator: str, value: str, atomic) -> str:
    """``A[index] op= value`` into this thread's copy of A, grown on demand; indices past
    the private limit or negative go to ``atomic(shared_element, operator, value)``."""
    local = f"ellora_{array}"
    return (
        f"{{ const auto ellora_k = ({index}); "
        f"if (static_cast<unsigned long long>(ellora_k) < {local}_size) "
        f"{local}_data[ellora_k] {operator} ({value}); "
        f"else if (static_cast<unsigned long long>(ellora_k) < {PRIVATE_LIMIT}ULL) {{ "
        f"{local}_local.resize(ellora_grown(static_cast<std::size_t>(ellora_k), {local}_size, "
        f"sizeof(*{local}_data))); "
        f"{local}_data = {local}_local.data(); {local}_size = {local}_local.size(); "
        f"{local}_data[ellora_k] {operator} ({value}); }} "
        f"else {{ {atomic(f'{array}[ellora_k]', operator, value)} }} }}"
    )


def _openmp_atomic(element: str, operator: str, value: str) -> str:
    return f"\n#pragma omp atomic\n{element} {operator} ({value});\n"


def _kokkos_atomic(element: str, operator: str, value: str) -> str:
    sign = "-" if operator == "-=" else ""
    array = element.split("[", 1)[0]
    return f"Kokkos::atomic_add(&{element}, static_cast<ellora_{array}_t>({sign}({value})));"


def _parts(arrays: list[str], count: str, pad: str) -> str:
    return "".join(f"{pad}std::vector<std::vector<ellora_{a}_t>> ellora_{a}_parts({count});\n"
                   for a in arrays)


def _own_part(arrays: list[str], worker: str, pad: str) -> str:
    """A worker's private copy of each array, its data pointer and size in locals."""
    return "".join(
        f"{pad}std::vector<ellora_{a}_t>& ellora_{a}_local = ellora_{a}_parts[{worker}];\n"
        f"{pad}ellora_{a}_t* ellora_{a}_data = ellora_{a}_local.data();\n"
        f"{pad}std::size_t ellora_{a}_size = ellora_{a}_local.size();\n" for a in arrays)


def _longest(array: str, pad: str) -> str:
    return (f"{pad}std::size_t ellora_{array}_longest = 0;\n"
            f"{pad}for (const auto& ellora_part : ellora_{array}_parts)\n"
            f"{pad}  if (ellora_part.size() > ellora_{array}_longest) "
            f"ellora_{array}_longest = ellora_part.size();\n")


def _merge_body(array: str, pad: str) -> str:
    """Index m of every private copy added into the shared element (only if one touched it):
    each index is merged by one thread, so no atomics are needed."""
    return (
        f"{pad}  ellora_{array}_t ellora_sum = ellora_{array}_t();\n"
        f"{pad}  bool ellora_touched = false;\n"
        f"{pad}  for (const auto& ellora_part : ellora_{array}_parts) {{\n"
        f"{pad}    if (ellora_m < ellora_part.size() && ellora_part[ellora_m] != ellora_{array}_t()) "
        f"{{ ellora_sum += ellora_part[ellora_m]; ellora_touched = true; }}\n"
        f"{pad}  }}\n"
        f"{pad}  if (ellora_touched) {array}[ellora_m] += ellora_sum;\n"
    )


def _openmp_code(facts, loop, new_loop: str, arrays: list[str], types: str, pad: str) -> str:
    indent = pad[:-2]
    private = f" private({', '.join(facts.private)})" if facts.private else ""
    copies = firstprivate_names(loop)
    copies = f" firstprivate({', '.join(copies)})" if copies else ""
    merges = "".join(
        _longest(a, pad) + f"{pad}#pragma omp for schedule(static)\n"
        f"{pad}for (std::size_t ellora_m = 0; ellora_m < ellora_{a}_longest; ++ellora_m) {{\n"
        + _merge_body(a, pad) + f"{pad}}}\n" for a in arrays)
    body = new_loop.replace("\n", "\n  ")
    return (
        f"{types}{{\n{_parts(arrays, 'omp_get_max_threads()', pad)}"
        f"{pad}#pragma omp parallel{copies}\n{pad}{{\n"
        + _own_part(arrays, "omp_get_thread_num()", pad + "  ")
        + f"{pad}  #pragma omp for schedule(static){private}\n"
        f"{pad}  {body.replace(chr(10), chr(10) + '  ')}\n"
        + merges.replace("\n" + pad, "\n" + pad + "  ").replace(pad, pad + "  ", 1)
        + f"{pad}}}\n{indent}}}"
    )


def _kokkos_code(facts, loop, loop_body: str, arrays: list[str], types: str, pad: str) -> str:
    from ellora.tools.cpp_syntax import enclosing
    from ellora.tools.transformations import _function_name

    indent = pad[:-2]
    var, kind = facts.variable, facts.variable_type or "long long"
    label = f"{_function_name(enclosing(loop, 'function_definition')) or 'loop'}_line{facts.start_line}"
    host = "Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>"
    merges = "".join(
        _longest(a, pad + "  ")
        + f'{pad}  Kokkos::parallel_for("{label}_merge_{a}", {host}(0, ellora_{a}_longest),\n'
        f"{pad}    [&](const std::size_t ellora_m) {{\n"
        + _merge_body(a, pad + "    ") + f"{pad}    }});\n" for a in arrays)
    return (
        f"{types}{{\n"
        f"{pad}const long long ellora_lo = (long long)({facts.lower}), "
        f"ellora_hi = (long long)({facts.upper});\n"
        f"{pad}const long long ellora_chunks = Kokkos::DefaultHostExecutionSpace().concurrency();\n"
        f"{pad}if (ellora_hi > ellora_lo) {{\n"
        + _parts(arrays, "ellora_chunks", pad + "  ")
        + f'{pad}  Kokkos::parallel_for("{label}", {host}(0, ellora_chunks),\n'
        f"{pad}    [&](const long long ellora_chunk) {{\n"
        + _own_part(arrays, "ellora_chunk", pad + "      ")
        + f"{pad}      const long long ellora_begin = ellora_lo + (ellora_hi - ellora_lo) * "
        "ellora_chunk / ellora_chunks;\n"
        f"{pad}      const long long ellora_end = ellora_lo + (ellora_hi - ellora_lo) * "
        "(ellora_chunk + 1) / ellora_chunks;\n"
        f"{pad}      for ({kind} {var} = ({kind})ellora_begin; {var} < ({kind})ellora_end; "
        f"++{var}) {loop_body.replace(chr(10), chr(10) + '    ')}\n"
        f"{pad}    }});\n"
        + merges
        + f"{pad}}}\n{indent}}}"
    )


def rewrite_scatter(target: str, source: str, loop, facts: LoopFacts) -> tuple[str, str]:
    """The source with the loop's atomic updates privatized per thread (OpenMP or Kokkos);
    ValueError when an update is not a one-dimensional ``A[k] += v`` / ``-=`` / ``++``."""
    from ellora.tools.transformations import _atomic_statements, loop_indent, replace_loop

    atomic = _openmp_atomic if target == "openmp" else _kokkos_atomic
    loop_start = loop.start_byte
    edits, arrays = [], []
    for statement, written, operator, value in _atomic_statements(loop, facts):
        parts = _split_target(written)
        if parts is None:
            raise ValueError(f"{written}: only one-dimensional scatter-adds are privatized")
        array, index = parts
        if array not in arrays:
            arrays.append(array)
        edits.append((statement.start_byte - loop_start, statement.end_byte - loop_start,
                      _private_update(array, index, operator, value, atomic)))
    loop_bytes = text(loop).encode()
    for start, end, replacement in sorted(edits, reverse=True):
        loop_bytes = loop_bytes[:start] + replacement.encode() + loop_bytes[end:]
    body_offset = loop.child_by_field_name("body").start_byte - loop_start
    loop_body = loop_bytes[body_offset:].decode()  # the edits all lie in the body
    new_loop = loop_bytes.decode()
    if facts.canonical_condition:
        condition = text(loop.child_by_field_name("condition"))
        new_loop = new_loop.replace(condition, facts.canonical_condition, 1)
    indent = loop_indent(source, loop)
    types = "".join(f"typedef std::decay_t<decltype({a}[0])> ellora_{a}_t;\n{indent}"
                    for a in arrays)
    pad = indent + "  "
    code = _openmp_code(facts, loop, new_loop, arrays, types, pad) if target == "openmp" \
        else _kokkos_code(facts, loop, loop_body, arrays, types, pad)
    headers = ("cstddef", "type_traits", "vector") + (("omp.h",) if target == "openmp" else ())
    new_source = replace_loop(source, loop, facts, code, target, headers, GROWTH_HELPER)
    how = ("an OpenMP parallel region" if target == "openmp"
           else "a Kokkos parallel_for over host-thread chunks")
    explanation = (
        f"scatter-add into {', '.join(arrays)} privatized in {how}: each thread adds into "
        "its own copy (grown to the largest index it meets) and adds it into the shared "
        "array once at the end, instead of an atomic per update; "
        + "; ".join(facts.facts)
    )
    return new_source, explanation
