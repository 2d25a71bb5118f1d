"""Profiler node: time original and candidate at each thread count; speedup = T_orig / T_cand."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ellora.agents.services import Services
from ellora.agents.state import StepTimer, TaskState
from ellora.agents.tester import verify_spec
from ellora.tools.profilers import callgrind
from ellora.tools.verify import (
    ROUNDS_AGREE,
    TimingFailed,
    build_variant,
    calibrate_timing_size,
    prepare_workspace,
    time_variants_fitting,
)


def profiler(state: TaskState, services: Services) -> dict:
    timer = StepTimer("profiler")
    spec = verify_spec(state)
    toolchain = services.toolchain
    recipes = {
        "original": toolchain.recipe("serial"),
        "candidate": toolchain.recipe(state["target_model"]),
    }
    workspace = Path(state.get("workspace") or "")
    if not (workspace / "original").exists() or not (workspace / "candidate").exists():
        workspace = prepare_workspace(services.sandbox, spec)  # resumed after a restart
        for variant in ("original", "candidate"):
            outcome = build_variant(
                services.sandbox, workspace, spec, variant, recipes[variant], services.limits
            )
            timer.build_seconds += outcome.seconds
    settings = services.settings.agent
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    size = timing_size(services, workspace, spec, recipes["original"])
    try:
        medians, size, size_note = time_variants_fitting(
            services.sandbox, workspace, spec, recipes, settings.threads, size,
            min(size, settings.timing_size), settings.timing_repeats, rounds=3,
            limits=services.limits, max_rounds=settings.timing_max_rounds)
    except TimingFailed as failure:
        timer.run_seconds = time.perf_counter() - started
        return {
            "workspace": str(workspace),
            "status": "unverified",
            "status_reason": f"the change passed its tests but a timing run failed: {failure}",
            "steps": [timer.record(f"timing failed: {failure}")],
        }
    timer.run_seconds = time.perf_counter() - started
    baseline = medians["original"][1]
    speedups = {str(p): baseline / t if t > 0 else 0.0 for p, t in medians["candidate"].items()}
    efficiency = {p: round(s / int(p), 3) for p, s in speedups.items()}
    timings = {
        "original_s": baseline,
        "efficiency": efficiency,
        "candidate_s": {str(p): t for p, t in medians["candidate"].items()},
        "size": size if spec.mode == "harness" else None,
        "method": f"median of 3 interleaved rounds (up to {settings.timing_max_rounds} while "
        f"their speedups differ by over {ROUNDS_AGREE - 1:.0%}) x {settings.timing_repeats} "
        "timed calls after a warm-up",
        "backend": recipes["candidate"].parallel_backend,
        "load_average": round(max(load_before, os.getloadavg()[0]), 2),
        "cores": os.cpu_count(),
    }
    if size_note:
        timings["size_note"] = size_note
    if settings.hotspots and spec.mode == "harness":
        started = time.perf_counter()
        timings["hotspots"] = _hotspots(services, workspace, recipes["candidate"], size)
        timer.run_seconds += time.perf_counter() - started
    summary = ", ".join(
        f"{p} thread{'s' if p != '1' else ''}: {s:.2f}x" for p, s in speedups.items()
    )
    status, reason = "verified", "built, tested against the original, and timed"
    top = str(max(settings.threads))
    if top in speedups and speedups[top] <= settings.min_speedup:
        status = "not_faster"
        reason = (f"the port is correct but ran {speedups[top]:.2f}x the original's speed at "
                  f"{top} {'ranks' if state['target_model'] == 'mpi' else 'threads'} (an offer "
                  f"needs more than {settings.min_speedup:g}x): the original is kept"
                  + _why_not_faster(state))
    return {
        "workspace": str(workspace),
        "timings": timings,
        "speedups": speedups,
        "status": status,
        "status_reason": reason,
        "steps": [timer.record(f"speedup over the original: {summary}")],
    }


def timing_size(services: Services, workspace: Path, spec, recipe) -> int:
    """The size to time at: ``agent.timing_size``, grown for a harness that takes --size until
    the ``recipe`` build's call takes ``agent.min_timing_s`` (see calibrate_timing_size)."""
    settings = services.settings.agent
    if spec.mode != "harness" or settings.min_timing_s <= 0:
        return settings.timing_size
    size, _ = calibrate_timing_size(services.sandbox, workspace, recipe, settings.timing_size,
                                    services.limits, settings.min_timing_s,
                                    settings.max_timing_growth)
    return size


def _why_not_faster(state: TaskState) -> str:
    """What usually explains a correct port that is not faster, from the plan's pattern."""
    pattern = (state.get("plan") or {}).get("pattern", "")
    if state["target_model"] == "mpi" and "map" in pattern.split("+"):
        return ("; each rank computes its block, then the elements it wrote are gathered "
                "(MPI_Gatherv or MPI_Allgatherv): when the loop does little work per element, that "
                "moves as many bytes as the loop streams, so MPI pays off only where the ranks "
                "keep their blocks distributed across steps instead of gathering after each "
                "loop")
    return ""


def _hotspots(services: Services, workspace: Path, recipe, timing_size: int) -> dict:
    """Where the candidate's kernel spends its instructions (callgrind, 1 thread, a small case,
    counting only inside the harness's timed kernel calls):
    deterministic, so it reads the same on a noisy machine. The case is a tenth of the timing
    size (at most 100,000): callgrind runs ~50x slower, and a quadratic kernel at full size
    would take hours."""
    if recipe.launcher:  # MPI: profile one rank's worth of work is not meaningful here
        return {"available": False, "message": "hotspots are not collected for MPI runs"}
    size = max(1, min(100_000, timing_size // 10))
    args = ["--size", str(size), "--seed", "7", "--mode", "time", "--repeats", "1"]
    summary = callgrind(services.sandbox, workspace, ["./candidate", *args],
                        services.limits.replace(wall_s=min(services.limits.wall_s, 120)),
                        env={"OMP_NUM_THREADS": "1"}, top=5,
                        only_inside="*ellora::Case::kernel*")
    return summary.to_dict()
