"""Candidate variants for a bounded optimize round: each is a known-safe change to a verified
transformation (a schedule for irregular loops, collapsing a provably parallel inner loop).
The optimizer keeps a variant only if it passes the same tests and is measurably faster."""

from __future__ import annotations

from dataclasses import dataclass

from ellora.tools.cpp_syntax import loops_in_lines, parse_cpp
from ellora.tools.loop_analysis import LoopFacts, analyze_loop

OPENMP_PRAGMA = "#pragma omp parallel for schedule(static)"
KOKKOS_POLICY = "Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>("


@dataclass
class Variant:
    name: str
    source: str
    why: str


def _inner_loop_is_parallel(original: str, facts: LoopFacts) -> bool:
    """The loop right inside the target is parallel by itself (needed for collapse(2))."""
    tree = parse_cpp(original)
    outer = loops_in_lines(tree, facts.start_line, facts.start_line)
    if not outer:
        return False
    body = outer[0].child_by_field_name("body")
    inner = (
        body
        if body.type == "for_statement"
        else next((c for c in body.named_children if c.type == "for_statement"), None)
    )
    if inner is None:
        return False
    inner_facts = analyze_loop(inner, original)
    return inner_facts.parallel and not inner_facts.reductions and not inner_facts.atomic_arrays


def variants(target: str, original: str, candidate: str, facts: LoopFacts) -> list[Variant]:
    """Variants of a transformation's output worth measuring for this loop."""
    found: list[Variant] = []
    if target == "openmp" and OPENMP_PRAGMA in candidate:
        if facts.irregular:
            found.append(
                Variant(
                    "schedule(dynamic, 64)",
                    candidate.replace(
                        OPENMP_PRAGMA, "#pragma omp parallel for schedule(dynamic, 64)"
                    ),
                    "inner trip counts vary between iterations, so static blocks may be unbalanced",
                )
            )
        if facts.perfectly_nested and _inner_loop_is_parallel(original, facts):
            found.append(
                Variant(
                    "collapse(2)",
                    candidate.replace(OPENMP_PRAGMA, OPENMP_PRAGMA + " collapse(2)"),
                    "both loops of the nest are parallel; collapsing gives more, finer work",
                )
            )
    if target == "kokkos" and facts.irregular and KOKKOS_POLICY in candidate:
        found.append(
            Variant(
                "Schedule<Dynamic>",
                candidate.replace(
                    KOKKOS_POLICY,
                    "Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace, "
                    "Kokkos::Schedule<Kokkos::Dynamic>>(",
                ),
                "inner trip counts vary between iterations, so static blocks may be unbalanced",
            )
        )
    return found
