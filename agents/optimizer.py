"""Optimizer node (between tester and profiler): a bounded round over known-safe variants
of the verified change; a variant replaces the candidate only if it passes the same tests
and is faster."""

from __future__ import annotations

import statistics
from pathlib import Path

from ellora.agents.profiler import timing_size
from ellora.agents.services import Services
from ellora.agents.state import StepTimer, TaskState
from ellora.agents.tester import run_differential_test
from ellora.tools.tuning import variants
from ellora.tools.verify import (
    VerifySpec,
    build_variant,
    prepare_workspace,
    time_variants,
)

MIN_GAIN = 1.05  # a variant must be at least 5 % faster at the highest thread count


def optimizer(state: TaskState, services: Services) -> dict:
    timer = StepTimer("optimizer")
    loop = (state.get("plan") or {}).get("loop")
    if (
        not services.settings.agent.optimize_round
        or not loop
        or state.get("candidate_origin") != "transformation"
    ):
        return {}
    options = variants(state["target_model"], state["candidate"], loop,
                       (state["original"], state["first_line"], state["last_line"]),
                       state["file"])
    if not options:
        return {"steps": [timer.record("optimize round: no known-safe variant applies to "
                                       "this loop")]}
    tried, best = [], None
    for option in options:
        outcome = _measure(state, services, option.source, timer)
        tried.append({"variant": option.name, "why": option.why, **outcome})
        if outcome.get("gain", 0) >= MIN_GAIN and (best is None or outcome["gain"] > best[1]):
            best = (option, outcome["gain"])
    update = {
        "optimizations": tried,
        "steps": [
            timer.record(
                "optimize round: " + "; ".join(f"{t['variant']}: {t['result']}" for t in tried)
            )
        ],
    }
    if best is not None:
        update.update(
            {
                "candidate": best[0].source,
                "workspace": "",
                "explanation": f"{state['explanation']}; optimized with {best[0].name} "
                f"({best[1]:.2f}x faster than the plain transformation)",
            }
        )
    return update


def _measure(state: TaskState, services: Services, source: str, timer: StepTimer) -> dict:
    """Build, test and time a variant against the current candidate (interleaved rounds)."""
    settings, toolchain = services.settings.agent, services.toolchain
    recipe = toolchain.recipe(state["target_model"])
    spec = VerifySpec(
        Path(state["file"]).name,
        state["candidate"],
        source,
        str(Path(state["file"]).resolve().parent),
        state.get("harness"),
    )
    workspace = prepare_workspace(services.sandbox, spec)
    try:
        recipes = {"original": recipe, "candidate": recipe}
        for variant in ("original", "candidate"):  # original = the current candidate here
            build = build_variant(
                services.sandbox, workspace, spec, variant, recipe, services.limits
            )
            timer.build_seconds += build.seconds
            if not build.ok:
                return {"result": "does not build"}
        test = run_differential_test(services, workspace, spec, recipes, services.limits)
        timer.run_seconds += test.run_seconds
        if test.status != "passed":
            return {"result": f"rejected: tests {test.status}"}
        top = max(settings.threads)
        size = timing_size(services, workspace, spec, recipe)
        times = [
            time_variants(
                services.sandbox,
                workspace,
                spec,
                recipes,
                [top],
                size,
                settings.timing_repeats,
                1,
                services.limits,
                original_counts=[top],
            )
            for _ in range(3)
        ]
        current = statistics.median(t["original"][top] for t in times)
        variant = statistics.median(t["candidate"][top] for t in times)
        gain = current / variant if variant > 0 else 0.0
        verdict = "kept" if gain >= MIN_GAIN else "not faster, dropped"
        return {"result": f"{gain:.2f}x at {top} threads, {verdict}", "gain": gain}
    finally:
        services.sandbox.discard_workspace(workspace)
