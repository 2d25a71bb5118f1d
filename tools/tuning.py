"""Candidate variants for a bounded optimize round: each is a known-safe change to a verified
transformation (a schedule for irregular loops, collapsing a provably parallel inner loop).
The optimizer keeps a variant only if it passes the same tests and is measurably faster."""

from __future__ import annotations

from dataclasses import dataclass

OPENMP_PRAGMA = "#pragma omp parallel for schedule(static)"
KOKKOS_POLICY = "Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>("


@dataclass
class Variant:
    name: str
    source: str
    why: str


def variants(target: str, candidate: str, decision: dict,
             region: tuple[str, int, int] | None = None, file_name: str = "") -> list[Variant]:
    """Variants of a transformation's output worth measuring for this loop; ``decision``
    is the planner's record of the loop (``LoopDecision.to_dict()``), ``region`` the
    original source and lines (to lower the region again with other options), in the
    language of ``file_name`` (a C file gets C, a Fortran file the Fortran front end)."""
    found: list[Variant] = []
    if region is not None and decision.get("conditional_stores") and target in ("openmp",
                                                                                 "kokkos"):
        from ellora.tools.loops.region import is_c_source, language_of, plan_region

        source, first, last = region
        converted = plan_region(source, first, last, target, if_convert=True,
                                language=language_of(file_name),
                                c_source=is_c_source(file_name)).source
        if converted and converted != candidate:
            found.append(Variant(
                "if-converted stores", converted,
                "a conditional store to an element only its iteration touches becomes a "
                "select, so the loop vectorizes (the serial compiler may not add stores)"))
    irregular = decision.get("irregular", False)
    if target == "openmp" and OPENMP_PRAGMA in candidate:
        if irregular:
            found.append(Variant(
                "schedule(dynamic, 64)",
                candidate.replace(OPENMP_PRAGMA, "#pragma omp parallel for schedule(dynamic, 64)"),
                "inner trip counts vary between iterations, so static blocks may be unbalanced"))
        if decision.get("perfectly_nested") and decision.get("inner_parallel"):
            found.append(Variant(
                "collapse(2)", candidate.replace(OPENMP_PRAGMA, OPENMP_PRAGMA + " collapse(2)"),
                "both loops of the nest are parallel; collapsing gives more, finer work"))
    if target == "kokkos" and irregular and KOKKOS_POLICY in candidate:
        found.append(Variant(
            "Schedule<Dynamic>",
            candidate.replace(KOKKOS_POLICY, "Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace, "
                                             "Kokkos::Schedule<Kokkos::Dynamic>>("),
            "inner trip counts vary between iterations, so static blocks may be unbalanced"))
    return found
