"""Planner node: read the target region, classify the loop, choose a strategy and a test."""

from __future__ import annotations

from typing import Literal

from ellora.agents.services import Services
from ellora.agents.state import StepTimer, TaskState
from ellora.tools.cpp_syntax import loops_in_lines, omp_pragma_before, parse_cpp
from ellora.tools.loop_plan import plan_region
from ellora.tools.sort_transforms import SORT_TARGETS, sort_calls
from ellora.tools.verify import VerifySpec
from langgraph.types import Command

TRANSFORMABLE = ("openmp", "kokkos", "mpi")
TEST_STRATEGY = {
    "harness": "differential test with the shipped harness: original and candidate on the same "
    "random inputs at several sizes, outputs compared with a tolerance",
    "program": "differential test of the whole program: original and candidate stdout compared "
    "numerically with a tolerance",
    "compile-only": "no harness and no main(): the candidate can only be compiled; correctness "
    "will NOT be established",
}


def planner(state: TaskState, services: Services) -> Command[Literal["coder", "report"]]:
    timer = StepTimer("planner")
    target = state["target_model"]
    tree = parse_cpp(state["original"])
    loops = loops_in_lines(tree, state["first_line"], state["last_line"])
    region, _ = plan_region(state["original"], state["first_line"], state["last_line"])
    chosen = region.parallel or region.serial
    sorts = (sort_calls(state["original"], state["first_line"], state["last_line"])
             if target in SORT_TARGETS else [])
    facts = chosen[0] if chosen else None
    plan = {
        "target_model": target,
        "pattern": "; ".join(dict.fromkeys([f.pattern for f in chosen]
                                           + ["sort"] * bool(sorts))) or "unknown",
        "loop": facts.to_dict() if facts else None,
        "parallel_loops": [f.start_line for f in region.parallel],
        "serial_loops": [
            {"line": f.start_line, "why": f.refusal} for f in region.serial
        ],
    }
    spec = VerifySpec(state["file"], state["original"], state["original"], "", state.get("harness"))
    plan["test_strategy"] = TEST_STRATEGY[spec.mode]
    settings = services.settings.agent
    existing = omp_pragma_before(loops[0]) if loops else None
    if existing is not None and target == "openmp":
        plan["strategy"] = "refuse"
        plan["why"] = (
            f"the loop is already parallelized with OpenMP (line "
            f"{existing.start_point[0] + 1}); ask to optimize it, or to port it to "
            "Kokkos or MPI"
        )
    elif (
        sorts
        and settings.prefer_transformations
        and not (obstacle := transformation_obstacle(state))
    ):
        plan["strategy"] = "transformation"
        plan["why"] = (
            f"std::sort at line {', '.join(str(c.line) for c in sorts)}: a parallel block sort "
            f"applies"
        )
        if region.parallel:
            lines = ", ".join(str(f.start_line) for f in region.parallel)
            plan["why"] += f"; provably parallel loop at line {lines}"
        if region.serial:
            plan["why"] += "; kept serial: " + "; ".join(
                f"line {f.start_line} ({f.refusal})" for f in region.serial
            )
    elif facts is None:
        plan["strategy"] = "model"
        plan["why"] = "no for loop starts in the selected lines; the model writes the change"
    elif not facts.parallel and not settings.allow_unproven:
        plan["strategy"] = "refuse"
        plan["why"] = f"not parallelized: {facts.refusal}"
    elif (
        facts.parallel
        and target in TRANSFORMABLE
        and settings.prefer_transformations
        and not (obstacle := transformation_obstacle(state))
    ):
        plan["strategy"] = "transformation"
        lines = ", ".join(str(f.start_line) for f in region.parallel)
        plan["why"] = (
            f"provably parallel ({plan['pattern']}; loop at line {lines}); a verified "
            f"{target} transformation applies"
        )
        if region.serial:
            plan["why"] += "; kept serial: " + "; ".join(
                f"line {f.start_line} ({f.refusal})" for f in region.serial
            )
    else:
        plan["strategy"] = "model"
        plan["why"] = "the model writes the change; the tester checks it"
        if facts.parallel and target in TRANSFORMABLE and settings.prefer_transformations:
            plan["why"] = f"no verified transformation: {obstacle}; " + plan["why"]
    plan["expected_speedup"] = _expected_speedup(facts, settings.threads, target)
    sources = _retrieve(services, state, facts) or state.get("sources") or []
    update = {
        "plan": plan,
        "attempts": 0,
        "feedback": "",
        "sources": sources,
        "steps": [timer.record(f"{plan['strategy']}: {plan['why']}", plan=plan)],
    }
    if plan["strategy"] == "refuse":
        return Command(
            goto="report", update={**update, "status": "refused", "status_reason": plan["why"]}
        )
    return Command(goto="coder", update=update)


def transformation_obstacle(state: TaskState) -> str:
    """Why no verified transformation applies to the region, or an empty string."""
    from ellora.tools.loop_plan import rewrite_region

    try:
        rewrite_region(
            state["original"], state["first_line"], state["last_line"], state["target_model"]
        )
    except ValueError as error:
        return str(error)
    return ""


def _expected_speedup(facts, threads: list[int], target: str) -> str:
    top = max(threads)
    unit = "ranks" if target == "mpi" else "threads"
    if facts is None or not facts.parallel:
        return "unknown until measured"
    if facts.nested_depth > 1 or facts.reductions:
        return f"close to {top}x at {top} {unit} if the loop is compute-bound"
    gather = "; the MPI_Allgatherv of the result costs extra" if target == "mpi" else ""
    return (
        f"up to {top}x at {top} {unit}; a streaming loop is memory-bound and usually "
        f"gains less{gather}"
    )


def _retrieve(services: Services, state: TaskState, facts) -> list[dict]:
    if services.retriever is None:
        return []
    query = f"{state['task']} {facts.pattern if facts else ''} {state['target_model']}"
    return [snippet.to_dict() for snippet in services.retriever.retrieve(query, k=4)]
