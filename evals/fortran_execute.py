"""Build, validate and time samples of Fortran translation tasks (``--sources fortran``).

The same steps as :mod:`ellora.evals.execute`, with the problem's Fortran driver
(``fortran.harness.f90``), the harness module staged as ``ellora_harness.F90``, and the
Fortran recipes. The reference is the problem's serial Fortran (``fortran.f90``), built once
per run under ``references/<problem>/fortran`` (workers agree through a file lock), so
speedups are over the Fortran the task started from.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import time
from pathlib import Path

from ellora.evals import execute
from ellora.evals.workers import WorkerContext, machine_lock, worker_context
from ellora.tools.fortran_build import HARNESS_MODULE, STAGED_MODULE
from ellora.tools.toolchain import ToolchainMissing


def reference_dir(run_dir: str, problem: str) -> Path:
    return execute.reference_dir(run_dir, problem) / "fortran"


def stage_workspace(ctx: WorkerContext, problem: dict, source: str) -> Path:
    workspace = ctx.sandbox.new_workspace("eval-f-")
    (workspace / "candidate.f90").write_text(source)
    shutil.copy(Path(problem["folder"]) / "fortran.harness.f90", workspace / "harness.f90")
    shutil.copy(HARNESS_MODULE, workspace / STAGED_MODULE)
    (workspace / "mods").mkdir()
    return workspace


def build_command(recipe, binary: str = "candidate") -> list[str]:
    return [recipe.compiler, *recipe.flags, "-J", "mods", STAGED_MODULE, "candidate.f90",
            "harness.f90", "-o", binary, *recipe.libraries]


def _build(ctx: WorkerContext, workspace: Path, recipe) -> dict:
    command = build_command(recipe)
    result = ctx.sandbox.run(command, workspace, ctx.build_limits())
    log = (result.stderr + result.stdout)[-execute.LOG_TAIL:]
    if result.limit_hit:
        log += f"\n[eval] build stopped: {result.limit_hit} limit"
    return {"ok": result.ok, "command": command, "seconds": round(result.wall_s, 3), "log": log}


def build_reference(ctx: WorkerContext, run_dir: str, problem: dict) -> dict:
    """The serial Fortran reference of a problem (built once per run, under a lock)."""
    target = reference_dir(run_dir, problem["name"])
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / "fortran.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        summary_path = target / "reference.json"
        if summary_path.is_file():
            return json.loads(summary_path.read_text())
        summary = {"problem": problem["name"], "ok": False, "language": "fortran"}
        source = (Path(problem["folder"]) / "fortran.f90").read_text()
        workspace = stage_workspace(ctx, problem, source)
        try:
            try:
                recipe = ctx.toolchain.fortran_recipe("serial")
            except ToolchainMissing as missing:
                return {**summary, "error": str(missing)}
            with machine_lock(exclusive=False, enabled=ctx.evals.exclusive_timing):
                summary["build"] = _build(ctx, workspace, recipe)
                if summary["build"]["ok"]:
                    summary.update(execute._reference_outputs(ctx, workspace, problem))
                else:
                    summary["error"] = "the Fortran reference does not build"
            if summary["ok"]:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(workspace / "candidate", target / "reference")
                for size in problem["check_sizes"]:
                    shutil.copy(workspace / f"expected-{size}.bin",
                                target / f"expected-{size}.bin")
                summary_path.write_text(json.dumps(summary, indent=1))
        finally:
            ctx.sandbox.discard_workspace(workspace)
        return summary


def evaluate_sample(settings_json: str, run_dir: str, job: dict, reference: dict) -> dict:
    """Build and validate one Fortran candidate against the Fortran reference."""
    del reference  # the C++ reference: Fortran tasks are compared with their own
    started = time.perf_counter()
    ctx = worker_context(settings_json)
    model, problem = job["target"], job["problem"]
    outcome: dict = {"built": False, "valid": False, "times": {}, "baseline_s": None,
                     "speedups": {}, "status": "not_built", "language": "fortran"}
    if job.get("code") is None:
        outcome["status"] = "no_code"
        return execute._finish(outcome, started)
    own = build_reference(ctx, run_dir, problem)
    if not own.get("ok"):
        outcome.update(status="reference_failed", error=own.get("error", "reference"))
        return execute._finish(outcome, started)
    try:
        recipe = ctx.toolchain.fortran_recipe(model)
    except ToolchainMissing as missing:
        outcome.update(status="toolchain_missing", error=str(missing))
        return execute._finish(outcome, started)
    workspace = stage_workspace(ctx, problem, job["code"])
    try:
        with machine_lock(exclusive=False, enabled=ctx.evals.exclusive_timing):
            outcome["build"] = _build(ctx, workspace, recipe)
            outcome["built"] = outcome["build"]["ok"]
            if outcome["built"]:
                folder = reference_dir(run_dir, problem["name"])
                for size in problem["check_sizes"]:
                    shutil.copy(folder / f"expected-{size}.bin",
                                workspace / f"expected-{size}.bin")
                outcome["validation"] = execute.validate(
                    ctx, workspace, recipe, model, problem,
                    job.get("check_resources", job["resources"]))
        if outcome["built"]:
            outcome["valid"] = all(case["passed"] for case in outcome["validation"])
            outcome["status"] = "validated" if outcome["valid"] else "invalid"
            if outcome["valid"]:
                outcome["pending"] = str(execute.stash_binary(run_dir, job["key"],
                                                              workspace / "candidate"))
    finally:
        ctx.sandbox.discard_workspace(workspace)
    return execute._finish(outcome, started)


def time_sample(settings_json: str, run_dir: str, job: dict, outcome: dict) -> dict:
    """The timing pass: the Fortran reference and the candidate at each resource count."""
    started = time.perf_counter()
    ctx = worker_context(settings_json)
    pending = Path(outcome.pop("pending"))
    workspace = ctx.sandbox.new_workspace("time-f-")
    try:
        shutil.copy(pending / "candidate", workspace / "candidate")
        shutil.copy(reference_dir(run_dir, job["problem"]["name"]) / "reference",
                    workspace / "reference")
        recipe = ctx.toolchain.fortran_recipe(job["target"])
        with machine_lock(exclusive=True, enabled=ctx.evals.exclusive_timing):
            timing = execute.time_candidate(ctx, workspace, recipe, job["target"],
                                            job["problem"], job["resources"])
    finally:
        ctx.sandbox.discard_workspace(workspace)
        shutil.rmtree(pending, ignore_errors=True)
    outcome.update(timing)
    outcome["status"] = "passed" if "error" not in timing else "timing_failed"
    outcome["eval_s"] = round(outcome.get("eval_s", 0.0) + time.perf_counter() - started, 3)
    return outcome
