"""Planner node: read the target region, classify the loop, choose a strategy and a test."""

from __future__ import annotations

from typing import Literal

from ellora.agents.services import Services
from ellora.agents.state import StepTimer, TaskState
from ellora.tools.verify import VerifySpec
from langgraph.types import Command

TRANSFORMABLE = ("openmp", "kokkos", "mpi")
TEST_STRATEGY = {
    "harness": "differential test with the shipped harness: original and candidate on the same "
    "random inputs at several sizes, outputs compared with a tolerance",
    "program": "differential test of the whole program: original and candidate stdout compared "
    "numerically with a tolerance",
    "compile-only": "no harness and no main(): a harness is synthesized from the function "
    "(its signature and the accesses the loop model reads); where the inputs' domain cannot be "
    "inferred, the status stays unverified with the reason",
}


def planner(state: TaskState, services: Services) -> Command[Literal["coder", "report"]]:
    timer = StepTimer("planner")
    target = state["target_model"]
    settings = services.settings.agent
    region = _region_plan(state, services) if target in TRANSFORMABLE else None
    chosen = (region.transformed or region.serial) if region is not None else []
    decision = chosen[0] if chosen else None
    plan = {
        "target_model": target,
        "pattern": region.pattern if region is not None else "unknown",
        "loop": decision.to_dict() if decision else None,
        "parallel_loops": [d.line for d in region.transformed] if region else [],
        "serial_loops": [{"line": d.line, "why": d.why} for d in region.serial] if region
        else [],
    }
    spec = VerifySpec(state["file"], state["original"], state["original"], "", state.get("harness"))
    plan["test_strategy"] = TEST_STRATEGY[spec.mode]
    from ellora.tools.loops.region import language_of

    if spec.mode == "compile-only" and language_of(state["file"]) == "fortran":
        plan["test_strategy"] = ("no harness and no main program: a harness is synthesized "
                                 "from the procedure's declarations (extents, real arrays "
                                 "and scalars); where an argument's domain cannot be "
                                 "inferred, the status stays unverified with the reason "
                                 "(add <name>.harness.f90)")
    existing = _existing_openmp(state) if target == "openmp" else None
    from ellora.tools.loops.region import language_of

    if language_of(state["file"]) != "cpp":
        existing = None  # the Fortran front end reports !$omp directives itself
    if existing is not None:
        plan["strategy"] = "refuse"
        plan["why"] = (
            f"the loop is already parallelized with OpenMP (line {existing}); ask to optimize "
            "it, or to port it to Kokkos or MPI"
        )
    elif region is not None and region.source is not None and settings.prefer_transformations:
        plan["strategy"] = "transformation"
        plan["candidate"] = region.source
        plan["explanation"] = "\n".join([region.explanation, *region.left_serial()])
        what = []
        if region.transformed:
            lines = ", ".join(str(d.line) for d in region.transformed)
            what.append(f"provably parallel ({plan['pattern']}; loop at line {lines})")
        if region.sorts:
            what.append(f"std::sort at line {', '.join(map(str, region.sorts))}: a parallel "
                        "block sort applies")
        if region.algorithms:
            what.append(f"standard algorithms at line {', '.join(map(str, region.algorithms))}"
                        ": parallel forms with the same result apply")
        plan["why"] = "; ".join(what) + f"; a verified {target} transformation applies"
        if region.serial:
            plan["why"] += "; kept serial: " + "; ".join(
                f"line {d.line} ({d.why})" for d in region.serial)
    elif region is None or (region.loops_found == 0 and region.source is None):
        plan["strategy"] = "model"
        plan["why"] = "no for loop starts in the selected lines; the model writes the change"
    elif not settings.allow_unproven and settings.prefer_transformations and region.serial:
        plan["strategy"] = "refuse"
        plan["why"] = f"not parallelized: {region.first_refusal}"
    else:
        plan["strategy"] = "model"
        plan["why"] = "the model writes the change; the tester checks it"
        if region is not None and region.serial and settings.prefer_transformations:
            plan["why"] = f"no verified transformation: {region.first_refusal}; " + plan["why"]
    plan["expected_speedup"] = _expected_speedup(decision, settings.threads, target)
    sources = _retrieve(services, state, plan["pattern"]) or state.get("sources") or []
    update = {
        "plan": plan,
        "attempts": 0,
        "feedback": "",
        "sources": sources,
        "steps": [timer.record(f"{plan['strategy']}: {plan['why']}",
                               plan={k: v for k, v in plan.items() if k != "candidate"})],
    }
    if plan["strategy"] == "refuse":
        return Command(
            goto="report", update={**update, "status": "refused", "status_reason": plan["why"]}
        )
    return Command(goto="coder", update=update)


def _region_plan(state: TaskState, services: Services):
    """The plan for the selected lines, computed once (the coder applies its source)."""
    from ellora.agents.intent import result_on_root
    from ellora.tools.loops.region import is_c_source, language_of, plan_region

    placement = services.settings.agent.mpi_result
    root = placement == "root" or (placement == "auto" and result_on_root(state["task"]))
    return plan_region(state["original"], state["first_line"], state["last_line"],
                       state["target_model"], language=language_of(state["file"]),
                       mpi_root=root, c_source=is_c_source(state["file"]))


def _existing_openmp(state: TaskState) -> int | None:
    """The line of an OpenMP pragma already on the first selected loop, if any."""
    from ellora.tools.loops.cpp import CppSource

    parsed = CppSource(state["original"])
    loops = parsed.loops_in_lines(state["first_line"], state["last_line"])
    if not loops:
        return None
    previous = loops[0].prev_named_sibling
    if previous is not None and previous.type == "preproc_call" and \
            previous.text.decode().split()[:2] == ["#pragma", "omp"]:
        return previous.start_point[0] + 1
    return None


def _expected_speedup(decision, threads: list[int], target: str) -> str:
    top = max(threads)
    unit = "ranks" if target == "mpi" else "threads"
    if decision is None or not decision.parallel:
        return "unknown until measured"
    if decision.perfectly_nested or "reduction" in decision.pattern:
        return f"close to {top}x at {top} {unit} if the loop is compute-bound"
    gather = "; the MPI_Allgatherv of the result costs extra" if target == "mpi" else ""
    return (
        f"up to {top}x at {top} {unit}; a streaming loop is memory-bound and usually "
        f"gains less{gather}"
    )


def _retrieve(services: Services, state: TaskState, pattern: str) -> list[dict]:
    if services.retriever is None:
        return []
    query = f"{state['task']} {pattern if pattern != 'unknown' else ''} {state['target_model']}"
    return [snippet.to_dict() for snippet in services.retriever.retrieve(query, k=4)]
