"""Build, validate and time one sample of a suite problem in the sandbox.

The reference (serial.cpp built with the problem's harness) is built once per problem and
run at every validation size; a candidate is built with the target model's recipe, run at
the same sizes and seeds at every resource count, and its outputs compared with the
reference's within the problem's tolerance (:func:`evaluate_sample`, run in parallel).
Passing candidates are timed afterwards, one at a time, at each resource count with the
reference timed in the same rounds (warm-up, repeats, median in the harness; median over
rounds here; :func:`time_sample`). Every function returns plain data; nothing raises for a
bad sample.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import statistics
import time
from pathlib import Path

from ellora.evals import programming
from ellora.evals.workers import WorkerContext, machine_lock, worker_context
from ellora.tools.toolchain import ToolchainMissing
from ellora.tools.verify import HARNESS_HEADER, _read_doubles, compare_values

_TIME = re.compile(r"ellora-time:\s*(\S+)")
LOG_TAIL = 6000


def check_seed(size: int) -> int:
    return 1000 + size


def reference_dir(run_dir: str, problem: str) -> Path:
    return Path(run_dir) / "references" / problem


def stage_workspace(ctx: WorkerContext, problem: dict, source: str, model: str) -> Path:
    """A fresh workspace with the harness, its header, the source and (MPI) the init header."""
    workspace = ctx.sandbox.new_workspace("eval-")
    suffix = programming.source_suffix(model)
    (workspace / f"candidate{suffix}").write_text(source)
    shutil.copy(Path(problem["folder"]) / "serial.harness.cpp", workspace / f"harness{suffix}")
    shutil.copy(HARNESS_HEADER, workspace / HARNESS_HEADER.name)
    return workspace


def build_command(recipe, binary: str = "candidate") -> list[str]:
    """The compile command for the harness + candidate with ``recipe``."""
    suffix = programming.source_suffix(recipe.model)
    return recipe.compile_command([f"harness{suffix}"], binary,
                                  {"ELLORA_TARGET": f'"candidate{suffix}"'}, ["."])


def check_args(size: int, output: str) -> list[str]:
    return ["--size", str(size), "--seed", str(check_seed(size)), "--mode", "check",
            "--output", output]


def time_args(size: int, repeats: int) -> list[str]:
    return ["--size", str(size), "--seed", "7", "--mode", "time", "--repeats", str(repeats)]


def _build(ctx: WorkerContext, workspace: Path, recipe) -> dict:
    command = build_command(recipe)
    result = ctx.sandbox.run(command, workspace, ctx.build_limits())
    log = (result.stderr + result.stdout)[-LOG_TAIL:]
    if result.limit_hit:
        log += f"\n[eval] build stopped: {result.limit_hit} limit"
    return {"ok": result.ok, "command": command, "seconds": round(result.wall_s, 3), "log": log}


def build_reference(settings_json: str, run_dir: str, problem: dict) -> dict:
    """Build the serial reference once per run and store its outputs at every check size."""
    target = reference_dir(run_dir, problem["name"])
    summary_path = target / "reference.json"
    if summary_path.is_file():
        return json.loads(summary_path.read_text())
    ctx = worker_context(settings_json)
    summary = {"problem": problem["name"], "ok": False, "sizes": problem["check_sizes"]}
    workspace = stage_workspace(ctx, problem, Path(problem["folder"], "serial.cpp").read_text(),
                                "serial")
    try:
        with machine_lock(exclusive=False, enabled=ctx.evals.exclusive_timing):
            summary["build"] = _build(ctx, workspace, ctx.toolchain.recipe("serial"))
            if summary["build"]["ok"]:
                summary.update(_reference_outputs(ctx, workspace, problem))
        if summary["ok"]:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(workspace / "candidate", target / "reference")
            for size in problem["check_sizes"]:
                shutil.copy(workspace / f"expected-{size}.bin", target / f"expected-{size}.bin")
            summary_path.write_text(json.dumps(summary, indent=1))
    finally:
        ctx.sandbox.discard_workspace(workspace)
    return summary


def _reference_outputs(ctx, workspace: Path, problem: dict) -> dict:
    for size in problem["check_sizes"]:
        result = ctx.sandbox.run(["./candidate", *check_args(size, f"expected-{size}.bin")],
                                 workspace, ctx.run_limits())
        if not result.ok:
            return {"ok": False, "error": f"the reference failed at size {size}: "
                                          f"{result.limit_hit or 'exit ' + str(result.exit_code)}"}
    return {"ok": True}


def evaluate_sample(settings_json: str, run_dir: str, job: dict, reference: dict) -> dict:
    """Build, validate and time one candidate; returns the evaluation part of its record."""
    started = time.perf_counter()
    ctx = worker_context(settings_json)
    model, problem = job["target"], job["problem"]
    outcome: dict = {"built": False, "valid": False, "times": {}, "baseline_s": None,
                     "speedups": {}, "status": "not_built"}
    if job.get("code") is None:
        outcome["status"] = "no_code"
        return _finish(outcome, started)
    if not reference.get("ok"):
        outcome.update(status="reference_failed", error=reference.get("error", "reference"))
        return _finish(outcome, started)
    try:
        recipe = programming.recipe_for(model, ctx.toolchain)
    except ToolchainMissing as missing:
        outcome.update(status="toolchain_missing", error=str(missing))
        return _finish(outcome, started)
    workspace = stage_workspace(ctx, problem, job["code"], model)
    try:
        _evaluate_in(ctx, run_dir, workspace, job, recipe, outcome)
    finally:
        ctx.sandbox.discard_workspace(workspace)
    return _finish(outcome, started)


def _evaluate_in(ctx, run_dir, workspace, job, recipe, outcome) -> None:
    model, problem = job["target"], job["problem"]
    resources = job["resources"]
    exclusive = ctx.evals.exclusive_timing
    with machine_lock(exclusive=False, enabled=exclusive):
        outcome["build"] = _build(ctx, workspace, recipe)
        outcome["built"] = outcome["build"]["ok"]
        if not outcome["built"]:
            return
        if model == "cuda" and not can_run_cuda(ctx):
            outcome.update(status="built_not_run", valid=None,
                           error="CUDA binary built; no GPU here to run it")
            return
        ref = reference_dir(run_dir, problem["name"])
        for size in problem["check_sizes"]:
            shutil.copy(ref / f"expected-{size}.bin", workspace / f"expected-{size}.bin")
        outcome["validation"] = validate(ctx, workspace, recipe, model, problem,
                                         job.get("check_resources", resources))
    outcome["valid"] = all(case["passed"] for case in outcome["validation"])
    if not outcome["valid"]:
        outcome["status"] = "invalid"
        return
    outcome["status"] = "validated"
    outcome["pending"] = str(stash_binary(run_dir, job["key"], workspace / "candidate"))


def stash_binary(run_dir: str, key: str, binary: Path) -> Path:
    """Keep a validated binary in the run folder until its timing pass."""
    folder = Path(run_dir) / "pending" / hashlib.sha256(key.encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(binary, folder / binary.name)
    return folder


def time_sample(settings_json: str, run_dir: str, job: dict, outcome: dict) -> dict:
    """The timing pass of a validated sample: reference and candidate at each resource count.

    Runs after every build of the batch (one at a time, under the node's exclusive lock), so
    no compiler competes with the timed binaries.
    """
    started = time.perf_counter()
    ctx = worker_context(settings_json)
    pending = Path(outcome.pop("pending"))
    workspace = ctx.sandbox.new_workspace("time-")
    try:
        shutil.copy(pending / "candidate", workspace / "candidate")
        ref = reference_dir(run_dir, job["problem"]["name"])
        shutil.copy(ref / "reference", workspace / "reference")
        recipe = programming.recipe_for(job["target"], ctx.toolchain)
        with machine_lock(exclusive=True, enabled=ctx.evals.exclusive_timing):
            timing = time_candidate(ctx, workspace, recipe, job["target"], job["problem"],
                                    job["resources"])
    finally:
        ctx.sandbox.discard_workspace(workspace)
        shutil.rmtree(pending, ignore_errors=True)
    outcome.update(timing)
    outcome["status"] = "passed" if "error" not in timing else "timing_failed"
    outcome["eval_s"] = round(outcome.get("eval_s", 0.0) + time.perf_counter() - started, 3)
    return outcome


def can_run_cuda(ctx: WorkerContext) -> bool:
    """Whether CUDA binaries run here (run_cuda "auto": when a GPU device is visible)."""
    policy = ctx.evals.run_cuda
    return policy == "always" or (policy == "auto" and ctx.toolchain.gpu_present)


def _run(ctx, workspace, recipe, model, binary, resource, args):
    command, env = programming.launch_command(recipe, model, binary, resource, args)
    return ctx.sandbox.run(command, workspace, ctx.run_limits(), env=env)


def validate(ctx, workspace: Path, recipe, model: str, problem: dict,
             resources: list[str]) -> list[dict]:
    """Check mode at every size and resource count; stops at the first failure."""
    cases = []
    rel, abs_ = problem["rel_tolerance"], problem["abs_tolerance"]
    for resource in resources:
        for size in problem["check_sizes"]:
            output = workspace / "candidate.out"
            output.unlink(missing_ok=True)
            result = _run(ctx, workspace, recipe, model, "candidate", resource,
                          check_args(size, "candidate.out"))
            if not result.ok or not output.is_file():
                reason = result.limit_hit or f"exit {result.exit_code}"
                detail = f"crashed ({reason}): {(result.stderr or result.stdout)[-300:].strip()}"
                cases.append({"resource": resource, "size": size, "passed": False,
                              "detail": detail})
                return cases
            expected = _read_doubles(workspace / f"expected-{size}.bin")
            problem_text = compare_values(expected, _read_doubles(output), rel, abs_)
            cases.append({"resource": resource, "size": size, "passed": not problem_text,
                          "detail": problem_text or f"{len(expected)} values match"})
            if problem_text:
                return cases
    return cases


def _seconds(stdout: str) -> float | None:
    values = [float(v) for v in _TIME.findall(stdout)]
    return max(values) if values else None  # MPI: the slowest rank


def time_candidate(ctx, workspace: Path, recipe, model: str, problem: dict,
                   resources: list[str]) -> dict:
    """Median seconds of the reference (serial) and the candidate at each resource count."""
    serial_recipe = ctx.toolchain.recipe("serial")
    args = time_args(problem["timing_size"], ctx.evals.timing_repeats)
    samples: dict[str, list[float]] = {"reference": [], **{r: [] for r in resources}}
    for _ in range(ctx.evals.timing_rounds):
        for key, values in samples.items():
            binary = "reference" if key == "reference" else "candidate"
            result = (_run(ctx, workspace, serial_recipe, "serial", binary, "1", args)
                      if key == "reference" else
                      _run(ctx, workspace, recipe, model, binary, key, args))
            seconds = _seconds(result.stdout) if result.ok else None
            if seconds is None:
                reason = result.limit_hit or f"exit {result.exit_code}"
                return {"error": f"timing run of {binary} at {key} failed ({reason})"}
            values.append(seconds)
    baseline = statistics.median(samples.pop("reference"))
    times = {key: statistics.median(values) for key, values in samples.items()}
    speedups = {key: (baseline / t if t > 0 else 0.0) for key, t in times.items()}
    return {"baseline_s": baseline, "times": times, "speedups": speedups}


def _finish(outcome: dict, started: float) -> dict:
    outcome["eval_s"] = round(time.perf_counter() - started, 3)
    return outcome
