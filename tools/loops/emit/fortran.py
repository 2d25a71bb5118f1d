"""Fortran lowering of parallel verdicts: ``!$omp parallel do`` with the clauses the verdict
requires (reductions in Fortran's operators, private/lastprivate, schedule, collapse of a
``do concurrent`` and of small perfect nests), scatter-adds as an array reduction (small
arrays) or atomic updates, and the patterns' own forms (argmin/argmax and last match in two
reductions, running values as block scans: :mod:`ellora.tools.loops.emit.fortran_patterns`);
MPI block decomposition through ``mpi_f08`` (:mod:`ellora.tools.loops.emit.fortran_mpi`).

:func:`apply_fortran` writes emissions into a source and adds ``use omp_lib`` /
``use mpi_f08`` to the procedures that need them.
"""

from __future__ import annotations

from ellora.tools.loops.emit.common import Emission, NotEmittable, pad_lines
from ellora.tools.loops.emit.fortran_text import (
    FortranEmission,
    FortranText,
    directive,
    reduction_clauses,
    single_statement_trip,
)
from ellora.tools.loops.fortran.syntax import lower, named, spelled
from ellora.tools.loops.legality.verdict import Verdict

SMALL_ARRAY = 1 << 16  # elements: up to this a scatter target is reduced as a private copy
_COLLAPSE_TRIP = 64  # a perfect nest whose outer loop runs fewer trips than this collapses


def emit_fortran(verdict: Verdict, target: str) -> Emission:
    """The target's lowering of a parallel verdict on a Fortran loop."""
    text = FortranText(verdict)
    line = text.existing_directive()
    if line is not None:
        raise NotEmittable(f"the loop is already parallelized with OpenMP (line {line}); ask "
                           "to optimize it, or to port it to MPI")
    if verdict.versioned:
        raise NotEmittable("the loop is parallel only behind a run-time check, which the "
                           "Fortran transformations do not write")
    if target == "openmp":
        return _openmp(text)
    if target == "mpi":
        from ellora.tools.loops.emit.fortran_mpi import emit_mpi

        return emit_mpi(text)
    raise NotEmittable(f"Fortran loops are ported to OpenMP or MPI; {target} has no "
                       "Fortran transformation")


def _openmp(text: FortranText) -> Emission:
    verdict = text.verdict
    if verdict.search is not None:
        from ellora.tools.loops.emit.fortran_search import emit_fortran_search

        return emit_fortran_search(text, "openmp")
    if verdict.locate is not None or verdict.scan is not None or \
            verdict.recurrence is not None:
        from ellora.tools.loops.emit.fortran_patterns import emit_pattern

        return emit_pattern(text, "openmp")
    if verdict.scatters:
        return _scatter(text)
    return _worksharing(text)


def concurrent_concern(text: FortranText) -> str:
    """What the report says about ``do concurrent``: a hint, checked like any loop."""
    if not text.info.concurrent:
        return ""
    return ("written as do concurrent (a promise the analysis did not rely on: it checked "
            "the loop as any other)")


def _clauses(text: FortranText, extra_reductions: dict | None = None,
             collapse: int = 1) -> list[str]:
    verdict = text.verdict
    clauses = ["schedule(static, 1)" if verdict.triangular else "schedule(static)"]
    if collapse > 1:
        clauses.append(f"collapse({collapse})")
    clauses += reduction_clauses(verdict, extra_reductions)
    privates = text.private_names()
    if privates:
        clauses.append(f"private({', '.join(privates)})")
    if verdict.lastprivates:
        clauses.append(f"lastprivate({', '.join(verdict.lastprivates)})")
    trip = single_statement_trip(text)
    if trip and collapse == 1:
        clauses.append(trip)
    return clauses


def loop_text(text: FortranText, renames=None, replace=None) -> tuple[str, int]:
    """The loop to put under the directive and its collapse count: the loop as written, or
    a ``do concurrent`` as nested ``do`` loops (its mask an ``if`` around the body)."""
    if not text.info.concurrent:
        return text.rewrite(text.node, renames, replace), _perfect_nest(text)
    controls = list(reversed(text.info.controls))  # the first index innermost: column-major
    lines, pad = [], ""
    for control in controls:
        step = f", {spelled(control.step)}" if control.step is not None else ""
        lines.append(f"{pad}do {control.var} = {spelled(control.start)}, "
                     f"{spelled(control.end)}{step}")
        pad += "  "
    body = text.body_text(renames, replace=replace)
    if text.info.mask is not None:
        lines.append(f"{pad}if ({text.rewrite(text.info.mask, renames)}) then")
        body = "\n".join("  " + line if line else line for line in body.split("\n"))
    lines += [pad[:-2] + line if line.startswith("  ") else pad + line
              for line in body.split("\n")]
    if text.info.mask is not None:
        lines.append(f"{pad}end if")
    for _ in controls:
        pad = pad[:-2]
        lines.append(f"{pad}end do")
    return "\n".join(lines), len(controls)


def _perfect_nest(text: FortranText) -> int:
    """2 when the body is one rectangular counted loop that is itself parallel with no
    reductions, and the outer loop runs a constant, small number of trips."""
    model = text.model
    if model.top_statements != ["loop"] or len(model.direct_inner_loops) != 1 or \
            text.verdict.triangular or text.verdict.reducers:
        return 1
    trips = (model.header.upper - model.header.lower).const_value()
    if trips is None or trips >= _COLLAPSE_TRIP:
        return 1
    from ellora.tools.loops.cpp.header import NotCounted
    from ellora.tools.loops.fortran.build import build_model
    from ellora.tools.loops.legality import decide

    try:
        inner_model = build_model(model.direct_inner_loops[0], model.function)
    except NotCounted:
        return 1
    var = model.header.var
    if inner_model.header.lower.mentions(var) or inner_model.header.upper.mentions(var):
        return 1
    inner = decide(inner_model)
    return 2 if inner.parallel and inner.pattern == "map" else 1


def _worksharing(text: FortranText) -> Emission:
    loop, collapse = loop_text(text)
    clauses = _clauses(text, collapse=collapse)
    code = f"{directive('parallel do', clauses)}\n{loop}\n!$omp end parallel do"
    facts = [f for f in [*text.verdict.facts, concurrent_concern(text)] if f]
    return text.emission(code, "OpenMP parallel do: " + "; ".join(
        facts or ["each iteration is independent"]) + f"; clauses: {' '.join(clauses)}")


# ----- scatter-adds ------------------------------------------------------------------------
def _scatter(text: FortranText) -> Emission:
    """``a(k) = a(k) + v`` that iterations may share: a reduction over the whole array when
    it is small (a private copy per thread), atomic updates otherwise; arrays whose size is
    only known at run time get both, chosen by ``size()``."""
    verdict = text.verdict
    bases = sorted({s.base for s in verdict.scatters})
    sizes = {base: _extent(text, base) for base in bases}
    if any(size == "assumed" for size in sizes.values()) or any("." in b for b in bases):
        return _atomic(text, bases, "")  # no size(), or a component (not a reduction item)
    if all(isinstance(size, int) and size <= SMALL_ARRAY for size in sizes.values()):
        return _array_reduction(text, bases)
    reduced = _array_reduction(text, bases)
    atomic = _atomic(text, bases, "")
    test = " .and. ".join(f"size({base}) <= {SMALL_ARRAY}" for base in bases)
    code = (f"if ({test}) then\n" + pad_lines(text.dedent(reduced.code)) + "else\n"
            + pad_lines(text.dedent(atomic.code)) + "end if")
    return text.emission(code, f"scatter-adds into {', '.join(bases)}: small arrays as an "
                               "OpenMP array reduction (a private copy per thread), large ones "
                               "with atomic updates; " + "; ".join(verdict.facts))


def _extent(text: FortranText, base: str):
    """The number of elements (an int) when the declaration gives constants, ``assumed``
    for an assumed-size array, None when only known at run time."""
    symbol = text.type_of(base)
    if symbol is None or not symbol.dims:
        return None
    total = 1
    for dimension in symbol.dims:
        if dimension.upper is None:
            return "assumed" if dimension == symbol.dims[-1] and not symbol.pointer and \
                "allocatable" not in symbol.attributes and _assumed_size(symbol) else None
        try:
            total *= int(dimension.upper) - int(dimension.lower) + 1
        except ValueError:
            return None
    return total


def _assumed_size(symbol) -> bool:
    declaration = symbol.node.text.decode() if symbol.node is not None else ""
    return "*" in declaration.split("::")[-1]


def _array_reduction(text: FortranText, bases: list[str]) -> FortranEmission:
    loop, collapse = loop_text(text)
    clauses = _clauses(text, {"+": bases}, collapse)
    code = f"{directive('parallel do', clauses)}\n{loop}\n!$omp end parallel do"
    return text.emission(code, f"scatter-adds into {', '.join(bases)} as an OpenMP array "
                               "reduction (each thread adds into its own copy); "
                               + "; ".join(text.verdict.facts))


def _atomic(text: FortranText, bases: list[str], why: str) -> FortranEmission:
    replace = {}
    for access in text.model.accesses:
        if access.base not in bases or not access.writes:
            continue
        statement = access.statement
        indent = _indent_of(text, statement)
        parent = statement.parent
        if parent is not None and parent.type == "if_statement" and \
                not any(not c.is_named and c.type.lower() == "then" for c in parent.children):
            condition = next(c for c in named(parent) if c.type == "parenthesized_expression")
            outer = _indent_of(text, parent)
            replace[(parent.start_byte, parent.end_byte)] = (
                f"if {text.slice(condition)} then\n{outer}  !$omp atomic update\n"
                f"{outer}  {text.slice(statement)}\n{outer}end if")
        else:
            replace[(statement.start_byte, statement.end_byte)] = (
                f"!$omp atomic update\n{indent}{text.slice(statement)}")
    loop, collapse = loop_text(text, replace=replace)
    clauses = _clauses(text, None, collapse)
    code = f"{directive('parallel do', clauses)}\n{loop}\n!$omp end parallel do"
    return text.emission(code, f"scatter-adds into {', '.join(bases)} as atomic updates{why}; "
                               + "; ".join(text.verdict.facts))


def _indent_of(text: FortranText, node) -> str:
    start = text.data.rfind(b"\n", 0, node.start_byte) + 1
    return text.data[start:node.start_byte].decode() if \
        not text.data[start:node.start_byte].strip() else ""


# ----- applying emissions ------------------------------------------------------------------
def apply_fortran(source: str, emissions: list, target: str) -> str:
    """The source with every emission's span replaced and the modules they need used in
    their procedures (after the procedure's last ``use``, else after its header)."""
    from ellora.tools.loops.fortran import FortranSource

    del target
    parsed = FortranSource(source)
    inserts: dict[int, list[str]] = {}
    for emission in emissions:
        for module in getattr(emission, "uses", ()):
            position, indent = _use_position(parsed, emission.unit_start, module)
            if position is None:
                continue
            line = f"\n{indent}use {module}"
            if line not in inserts.setdefault(position, []):
                inserts[position].append(line)
    edits = [(e.start, e.end, e.code) for e in emissions]
    edits += [(position, position, "".join(lines)) for position, lines in inserts.items()]
    data = source.encode()
    for start, end, code in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        data = data[:start] + code.encode() + data[end:]
    return data.decode()


def _use_position(parsed, unit_start: int, module: str) -> tuple[int | None, str]:
    """Where ``use module`` goes in the unit starting at ``unit_start`` (None when the unit
    or a host already uses it), and the indentation of the unit's statements."""
    from ellora.tools.loops.fortran.syntax import walk

    unit = next((n for n in walk(parsed.tree.root_node) if n.start_byte == unit_start and
                 n.type in ("subroutine", "function", "program")), None)
    if unit is None:
        return None, ""
    current = unit
    while current is not None:
        for child in current.named_children:
            if child.type == "use_statement":
                name = next((c for c in child.named_children if c.type == "module_name"), None)
                if name is not None and lower(name) == module:
                    return None, ""
        current = current.parent
    uses = [c for c in unit.named_children if c.type == "use_statement"]
    anchor = uses[-1] if uses else unit.named_children[0]
    body = [c for c in unit.named_children[1:] if c.type != "comment"]
    data = parsed.source.encode()
    indent = ""
    if body:
        start = data.rfind(b"\n", 0, body[0].start_byte) + 1
        indent = data[start:body[0].start_byte].decode()
        if indent.strip():
            indent = ""
    end = len(data[:anchor.end_byte].rstrip())  # statements may end past their newline
    line_end = data.find(b"\n", end)
    return (line_end if line_end >= 0 else len(data)), indent


__all__ = ["FortranEmission", "apply_fortran", "concurrent_concern", "emit_fortran"]
