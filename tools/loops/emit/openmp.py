"""OpenMP lowering: a worksharing pragma with the clauses the verdict requires, or the
pattern's own form (block scan, privatized scatter, search, argmin/argmax)."""

from __future__ import annotations

from ellora.tools.loops.emit.checks import (
    APART_HELPER,
    APART_HELPER_C,
    CHECK_INCLUDES,
    CHECK_INCLUDES_C,
    guard_declaration,
)
from ellora.tools.loops.emit.common import Emission, LoopText, NotEmittable, pad_lines
from ellora.tools.loops.legality.verdict import Verdict

# A loop of single statements runs in parallel only from this many iterations: below it,
# starting the threads costs more than the work (a loop in a recursive function meets
# every size down to 1). A macro, so a build can tune it (tests set 0 to force threads).
MIN_TRIP_HELPER = """\
// Ellora: loops of single statements run in parallel from this many iterations on.
#ifndef ELLORA_MIN_PARALLEL_TRIP
#define ELLORA_MIN_PARALLEL_TRIP 4096
#endif
"""

_REDUCTION_CLAUSE = {"+": "+", "*": "*", "max": "max", "min": "min", "&": "&", "|": "|",
                     "^": "^", "&&": "&&", "||": "||"}


def emit_openmp(verdict: Verdict, if_convert: bool = False) -> Emission:
    text = LoopText(verdict)
    if verdict.search is not None or verdict.locate is not None:
        from ellora.tools.loops.emit.search import emit_search

        return emit_search(text, "openmp")
    sections = _array_sections(text)
    if verdict.scatters and sections is None and not verdict.reducers:
        from ellora.tools.loops.emit.scatter import emit_scatter

        return emit_scatter(text, "openmp")
    if verdict.scan is not None or verdict.recurrence is not None:
        from ellora.tools.loops.emit.blockscan import emit_block_scan

        return emit_block_scan(text, "openmp")
    text.if_convert = if_convert
    return _worksharing(text, sections or {})


# Arrays of a known, small length updated by a scatter get OpenMP's array-section reduction:
# each thread adds into a private copy on its stack, merged at the end, no checks per update.
MAX_SECTION = 1 << 16


def _array_sections(text: LoopText) -> dict[str, tuple[str, str]] | None:
    """base -> (pointer name, length) when every scatter base is a std::array or C array of
    a literal length reached only by subscripts; None when one is not."""
    if not text.verdict.scatters:
        return None
    found = {}
    for scatter in text.verdict.scatters:
        base = text.model.bases[scatter.base]
        extent = base.ctype.extent
        if base.ctype.kind == "array" and base.where == "parameter":
            return None  # a C array parameter is a pointer: its declared length binds nothing
        if base.ctype.kind not in ("std_array", "array") or extent is None or \
                not extent.isdigit() or not 0 < int(extent) <= MAX_SECTION or "." in base.name:
            return None
        if any(len(a.indices) != 1 for a in text.model.accesses_of(scatter.base)):
            return None
        if not _only_subscripted(text.model.body, scatter.base):
            return None
        found[scatter.base] = (f"ellora_{scatter.base}_section", extent)
    return found


def _only_subscripted(body, name: str) -> bool:
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "identifier" and node.text.decode() == name:
            parent = node.parent
            if parent is None or parent.type != "subscript_expression" or \
                    parent.child_by_field_name("argument") != node:
                return False
        stack.extend(node.children)
    return True

def _bit_blocks(text: LoopText, clauses: list[str]) -> str | None:
    """A range-based loop reading a ``std::vector<bool>`` as a parallel region in which each
    thread walks its own block with one iterator (``x[k]`` divides and masks for every
    element; the serial loop's iterator reads word by word); None for other loops."""
    header, verdict = text.header, text.verdict
    base = text.model.bases.get(header.range_of) if header.range_of else None
    if base is None or base.ctype.kind != "bool_vector" or header.iterator is not None or \
            verdict.lastprivates or verdict.word_blocks or not header.unit_step:
        return None
    region = " ".join(c for c in clauses if not c.startswith("schedule"))
    blocks = (
        f"const long long ellora_lo = (long long)({header.lower_text}), "
        f"ellora_hi = (long long)({header.upper_text});\n"
        "const long long ellora_n = ellora_hi > ellora_lo ? ellora_hi - ellora_lo : 0;\n"
        "const long long ellora_parts = omp_get_num_threads(), "
        "ellora_part = omp_get_thread_num();\n"
        "const long long ellora_begin = ellora_lo + ellora_n * ellora_part / ellora_parts;\n"
        "const long long ellora_end = ellora_lo + ellora_n * (ellora_part + 1) / ellora_parts;\n"
        + text.block_loop("ellora_begin", "ellora_end"))
    return f"#pragma omp parallel {region}\n{{\n{pad_lines(blocks)}}}"


def clauses_of(verdict: Verdict, schedule: str | None = None) -> list[str]:
    clauses = [schedule or _schedule(verdict)]
    by_operator: dict[str, list[str]] = {}
    for reducer in verdict.reducers:
        by_operator.setdefault(_REDUCTION_CLAUSE[reducer.operator], []).append(reducer.name)
    for operator, names in by_operator.items():
        clauses.append(f"reduction({operator}:{', '.join(names)})")
    if verdict.privates:
        clauses.append(f"private({', '.join(verdict.privates)})")
    if verdict.lastprivates:
        clauses.append(f"lastprivate({', '.join(verdict.lastprivates)})")
    return clauses


def _schedule(verdict: Verdict) -> str:
    if verdict.word_blocks:
        return f"schedule(static, {verdict.word_chunk})"  # whole words of a std::vector<bool>
    if verdict.triangular:
        return "schedule(static, 1)"  # j from i + 1: deal iterations out one at a time
    return "schedule(static)"


SMALL_TRIPS_NOTE = "// Ellora: fewer iterations than ELLORA_MIN_PARALLEL_TRIP: no threads"


def small_trips_serial(condition: str, parallel: str, serial: str) -> str:
    """``parallel`` when ``condition`` holds, else ``serial`` (the original loop): a plain
    branch, so a loop entered very often with few iterations (in a recursive function, or
    inside a serial loop) never calls into the OpenMP runtime, which an ``if()`` clause
    still does. ``present`` in the engine's training data folds it back."""
    return (f"if ({condition}) {{\n{pad_lines(parallel)}}} else {{  {SMALL_TRIPS_NOTE}\n"
            f"{pad_lines(serial)}}}")


def _worksharing(text: LoopText, sections: dict[str, tuple[str, str]]) -> Emission:
    verdict = text.verdict
    text.c_dialect = c = text.model.function.c_source
    if verdict.lastprivates and text.header.range_of is not None:
        raise NotEmittable("lastprivate over a range-based loop is not rewritten")
    clauses = clauses_of(verdict)
    if sections:
        clauses.append("reduction(+:" + ", ".join(f"{pointer}[:{length}]"
                                                   for pointer, length in sections.values())
                       + ")")
        text.captures.update({base: pointer for base, (pointer, _) in sections.items()})
    guard = ""
    conditions = []
    if verdict.versioned:
        guard = guard_declaration(text)
        if not verdict.extent_checks:  # an exception must leave from outside any region
            conditions.append(text.guard)
    trip = None
    if not text.model.inner and text.header.unit_step:
        trip = (f"(long long)({text.header.upper_text}) - "
                f"(long long)({text.header.lower_text}) >= ELLORA_MIN_PARALLEL_TRIP")
    if conditions:
        clauses.append(f"if({' && '.join(conditions)})")
    edits = []
    if verdict.scatters and not sections:  # beside reductions: updates become atomic
        from ellora.tools.loops.emit.scatter import atomic_edits

        edits = atomic_edits(text, "openmp")
    bits = None if edits or sections else _bit_blocks(text, clauses)
    if bits is not None:
        parallel = bits
    else:
        parallel = f"#pragma omp parallel for {' '.join(clauses)}\n" + text.as_index_loop(edits)
    body = small_trips_serial(trip, parallel, text.original()) if trip else parallel
    if verdict.extent_checks:  # an index past the end: the original loop throws
        body = f"if ({text.guard}) {{\n" + pad_lines(body) + "} else " + text.original()
    code = guard + body
    if sections:  # the reduction needs a pointer or an array, not a std::array object
        pointers = "".join(
            f"auto* __restrict__ const {pointer} = &{base}[0];\n"
            for base, (pointer, _) in sections.items())
        code = "{\n" + pointers + code + "\n}"
    needs_block = bool(guard) and not sections and (text.node.parent is None or
                                   text.node.parent.type != "compound_statement")
    if needs_block:
        code = "{\n" + code + "\n}"
    start, end = text.span()
    return Emission(
        start, end, text.reindent(code),
        "OpenMP worksharing loop: " + "; ".join(verdict.facts or
                                                ["each iteration is independent"])
        + f"; clauses: {' '.join(clauses)}"
        + ("; each thread reads its block of the std::vector<bool> through one iterator "
           "(word by word)" if bits is not None else "")
        + ("; below ELLORA_MIN_PARALLEL_TRIP iterations the original loop runs, without "
           "entering the OpenMP runtime" if trip else ""),
        includes=((CHECK_INCLUDES_C if verdict.versioned else ()) if c else
                  (CHECK_INCLUDES if verdict.range_checks or verdict.extent_checks else ()))
        + (("iterator", "omp.h") if bits is not None else ()),
        apart_helper=bool(verdict.range_checks) and not c,
        helpers=((APART_HELPER_C,) if c and verdict.versioned else
                 (APART_HELPER,) if verdict.range_checks and not c else ())
        + ((MIN_TRIP_HELPER,) if "ELLORA_MIN_PARALLEL_TRIP" in code else ()))
