"""ParEval adapter: its prompts, run with its own drivers under local launch settings.

Reads a ParEval checkout: ``prompts/generation-prompts.json`` (one prompt per problem and
execution model), ``prompts/translation-prompts.json`` (serial->omp, serial->mpi,
cuda->kokkos), ``drivers/problem-sizes.json`` and ``drivers/cpp/benchmarks/<type>/<name>/``
(``baseline.hpp`` and the ``cpu.cc`` / ``kokkos.cc`` / ``gpu.cu`` drivers), with the
per-model mains in ``drivers/cpp/models/``. A sample is the prompt + the model's code in
``generated-code.hpp`` (ParEval's NO_INLINE patch applied), built with our recipe for the
model plus ``-DUSE_<MODEL> -DDRIVER_PROBLEM_SIZE=...`` and launched here instead of with
Slurm's ``srun``: ``./a.out T`` (OpenMP), ``mpirun -np R ./a.out [T]`` (MPI, MPI+OpenMP),
``OMP_NUM_THREADS=T ./a.out`` (Kokkos). The binary validates against ParEval's baseline and
prints ``Validation:``, ``Time:`` (mean of its runs) and ``BestSequential:`` (the baseline,
timed in the same binary), which is T* for the speedups.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

from ellora.evals import programming
from ellora.evals.execute import stash_binary
from ellora.evals.suite import Problem
from ellora.evals.workers import machine_lock, worker_context
from ellora.tools.toolchain import ToolchainMissing

DRIVER_FILES = {"serial": "cpu.cc", "openmp": "cpu.cc", "mpi": "cpu.cc", "mpi+openmp": "cpu.cc",
                "kokkos": "kokkos.cc", "cuda": "gpu.cu"}
MAIN_FILES = {"serial": "serial-driver.cc", "openmp": "omp-driver.cc", "mpi": "mpi-driver.cc",
              "mpi+openmp": "mpi-omp-driver.cc", "kokkos": "kokkos-driver.cc",
              "cuda": "cuda-driver.cu"}
USE_MACROS = {"serial": "USE_SERIAL", "openmp": "USE_OMP", "mpi": "USE_MPI",
              "mpi+openmp": "USE_MPI_OMP", "kokkos": "USE_KOKKOS", "cuda": "USE_CUDA"}
_LINE = re.compile(r"^(Validation|Time|BestSequential):\s*(\S+)", re.MULTILINE)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None


def _model(name: str) -> str | None:
    try:
        return programming.canonical(name)
    except ValueError:
        return None  # hip and other models we do not build


def load_pareval(root: Path) -> list[Problem]:
    """ParEval's problems as suite problems whose driver is ``pareval``."""
    root = Path(root).resolve()
    generation = _read_json(root / "prompts" / "generation-prompts.json")
    translation = _read_json(root / "prompts" / "translation-prompts.json")
    sizes = _read_json(root / "drivers" / "problem-sizes.json")
    benchmarks = root / "drivers" / "cpp" / "benchmarks"
    problems: dict[str, Problem] = {}
    for entry in generation:
        model = _model(entry["parallelism_model"])
        folder = benchmarks / entry["problem_type"] / entry["name"]
        if model is None or not folder.is_dir():
            continue
        problem = problems.setdefault(entry["name"], Problem(
            name=entry["name"], type=entry["problem_type"], function=_function(entry["prompt"]),
            description="", folder=str(folder), models=[], driver="pareval",
            extra={"root": str(root), "prompts": {}, "translations": {},
                   "sizes": {}}))
        problem.models.append(model)
        problem.extra["prompts"][model] = entry["prompt"]
        size = sizes.get(entry["name"], {}).get(entry["parallelism_model"])
        problem.extra["sizes"][model] = size or "(1<<20)"
    for entry in translation:
        source = _model(entry["translation_src_model"])
        target = _model(entry["translation_dst_model"])
        problem = problems.get(entry["name"])
        if problem and source and target:
            problem.extra["translations"][f"{source}->{target}"] = {
                "prompt": entry["translation_prompt"], "source": entry["translation_src_example"]}
    if not problems:
        raise ValueError(f"no ParEval problems found under {root}")
    return sorted(problems.values(), key=lambda p: p.name)


def _function(prompt: str) -> str:
    match = re.search(r"(\w+)\s*\([^()]*\)\s*\{\s*$", prompt.rstrip())
    return match.group(1) if match else "unknown"


def patch_no_inline(code: str, prompt: str) -> str:
    """ParEval's patch: NO_INLINE after the return type of the signature line."""
    signature = prompt.rstrip().splitlines()[-1]
    parts = signature.split(" ")
    if len(parts) < 2 or signature not in code:
        return code
    return code.replace(signature, " ".join([parts[0], "NO_INLINE", *parts[1:]]), 1)


def build_reference(settings_json: str, run_dir: str, problem: dict) -> dict:
    """ParEval times its baseline inside each sample's binary: nothing to prepare."""
    return {"problem": problem["name"], "ok": True}


def _stage(ctx, problem: dict, model: str, code: str) -> Path:
    root = Path(problem["extra"]["root"]) / "drivers" / "cpp"
    workspace = ctx.sandbox.new_workspace("pareval-")
    for name in ("utilities.hpp", "kokkos-includes.hpp"):
        if (root / name).is_file():
            shutil.copy(root / name, workspace / name)
    shutil.copy(root / "models" / MAIN_FILES[model], workspace / MAIN_FILES[model])
    folder = Path(problem["folder"])
    shutil.copy(folder / DRIVER_FILES[model], workspace / DRIVER_FILES[model])
    shutil.copy(folder / "baseline.hpp", workspace / "baseline.hpp")
    prompt = problem["extra"]["prompts"][model]
    header = "generated-code.cuh" if model == "cuda" else "generated-code.hpp"
    (workspace / header).write_text(patch_no_inline(code, prompt))
    return workspace


def build_command(recipe, model: str, size: str) -> list[str]:
    command = recipe.compile_command([MAIN_FILES[model], DRIVER_FILES[model]], "a.out",
                                     {USE_MACROS[model]: "1", "DRIVER_PROBLEM_SIZE": size}, ["."])
    return command


def launch(recipe, model: str, resource: str) -> tuple[list[str], dict]:
    """Local launch settings in place of ParEval's srun lines."""
    ranks, threads = programming.split_resource(resource)
    env = {"OMP_NUM_THREADS": str(threads), "OMP_PROC_BIND": "false"}
    if model == "openmp":
        return ["./a.out", str(threads)], env
    if model == "mpi":
        return [*recipe.launcher, "-np", str(threads), "./a.out"], {**env, "OMP_NUM_THREADS": "1"}
    if model == "mpi+openmp":
        return [*recipe.launcher, "-np", str(ranks), "./a.out", str(threads)], env
    return ["./a.out"], env


def parse_output(stdout: str) -> dict:
    values: dict = {}
    for key, value in _LINE.findall(stdout):
        values.setdefault(key, value)
    return values


def evaluate_sample(settings_json: str, run_dir: str, job: dict, reference: dict) -> dict:
    """Build the sample with ParEval's drivers (its runs come later, in :func:`time_sample`)."""
    started = time.perf_counter()
    ctx = worker_context(settings_json)
    model, problem = job["target"], job["problem"]
    outcome: dict = {"built": False, "valid": False, "times": {}, "baseline_s": None,
                     "speedups": {}, "status": "no_code"}
    if job.get("code") is None:
        return {**outcome, "eval_s": round(time.perf_counter() - started, 3)}
    try:
        recipe = programming.recipe_for(model, ctx.toolchain)
    except ToolchainMissing as missing:
        outcome.update(status="toolchain_missing", error=str(missing))
        return {**outcome, "eval_s": round(time.perf_counter() - started, 3)}
    workspace = _stage(ctx, problem, model, job["code"])
    try:
        _build_sample(ctx, run_dir, workspace, recipe, job, outcome)
    finally:
        ctx.sandbox.discard_workspace(workspace)
    return {**outcome, "eval_s": round(time.perf_counter() - started, 3)}


def _build_sample(ctx, run_dir, workspace, recipe, job, outcome) -> None:
    model, problem = job["target"], job["problem"]
    command = build_command(recipe, model, problem["extra"]["sizes"][model])
    with machine_lock(exclusive=False, enabled=ctx.evals.exclusive_timing):
        result = ctx.sandbox.run(command, workspace, ctx.build_limits())
    outcome["build"] = {"ok": result.ok, "command": command, "seconds": round(result.wall_s, 3),
                        "log": (result.stderr + result.stdout)[-6000:]}
    outcome["built"] = result.ok
    outcome["status"] = "not_built"
    if not result.ok:
        return
    if model == "cuda" and not (ctx.evals.run_cuda == "always" or (
            ctx.evals.run_cuda == "auto" and ctx.toolchain.gpu_present)):
        outcome.update(status="built_not_run", valid=None)
        return
    outcome["status"] = "built"
    outcome["pending"] = str(stash_binary(run_dir, job["key"], workspace / "a.out"))


def time_sample(settings_json: str, run_dir: str, job: dict, outcome: dict) -> dict:
    """Run the built sample at each resource count (validation and timing happen in the same
    binary), one sample at a time after the batch's builds."""
    started = time.perf_counter()
    ctx = worker_context(settings_json)
    pending = Path(outcome.pop("pending"))
    model = job["target"]
    recipe = programming.recipe_for(model, ctx.toolchain)
    workspace = ctx.sandbox.new_workspace("pareval-run-")
    runs, best = [], []
    try:
        shutil.copy(pending / "a.out", workspace / "a.out")
        with machine_lock(exclusive=True, enabled=ctx.evals.exclusive_timing):
            for resource in job["resources"]:
                command, env = launch(recipe, model, resource)
                result = ctx.sandbox.run(command, workspace, ctx.run_limits(), env=env)
                parsed = parse_output(result.stdout)
                runs.append({"resource": resource, "exit": result.exit_code,
                             "limit": result.limit_hit, "validation": parsed.get("Validation")})
                if not result.ok or parsed.get("Validation") != "PASS" or "Time" not in parsed:
                    break
                outcome["times"][resource] = float(parsed["Time"])
                if "BestSequential" in parsed:
                    best.append(float(parsed["BestSequential"]))
            reruns = ctx.evals.validation_reruns
            if reruns and len(outcome["times"]) == len(job["resources"]):
                checks = list(dict.fromkeys([*job["resources"],
                                             *ctx.evals.check_resources(model)]))
                outcome["reruns"] = _rerun_validation(ctx, recipe, model, workspace, checks,
                                                      reruns)
                failed = [r for r in outcome["reruns"] if r["validation"] != "PASS"]
                if failed:
                    runs.append({**failed[0], "why": f"rerun {failed[0]['rerun']} of "
                                                     f"{reruns} failed validation"})
    finally:
        ctx.sandbox.discard_workspace(workspace)
        shutil.rmtree(pending, ignore_errors=True)
    _summarize(outcome, runs, best, job["resources"])
    outcome["eval_s"] = round(outcome.get("eval_s", 0.0) + time.perf_counter() - started, 3)
    return outcome


def _rerun_validation(ctx, recipe, model: str, workspace: Path, resources: list[str],
                      reruns: int) -> list[dict]:
    """Run the binary ``reruns`` more times (resource counts in turn, the race-check counts
    included); the first failure ends it. Each rerun keeps the driver's ``Time`` and
    ``BestSequential``, so a report can take the median of its timings."""
    results = []
    for attempt in range(reruns):
        resource = resources[attempt % len(resources)]
        command, env = launch(recipe, model, resource)
        result = ctx.sandbox.run(command, workspace, ctx.run_limits(), env=env)
        parsed = parse_output(result.stdout)
        validation = parsed.get("Validation")
        results.append({"resource": resource, "exit": result.exit_code,
                        "limit": result.limit_hit, "validation": validation,
                        "rerun": attempt + 1,  # the driver's timings: its own run-to-run spread
                        **{key: float(parsed[name]) for key, name in
                           (("time", "Time"), ("best", "BestSequential")) if name in parsed}})
        if not result.ok or validation != "PASS":
            break
    return results


def driver_includes(problem: dict | Problem, model: str) -> list[str]:
    """The system headers ParEval's driver includes before the generated code (its
    benchmark driver, ``utilities.hpp`` and ``baseline.hpp``), as ``#include <...>`` lines:
    the function compiles in that context, so the file the agent gets starts with them."""
    extra = problem["extra"] if isinstance(problem, dict) else problem.extra
    folder = Path(problem["folder"] if isinstance(problem, dict) else problem.folder)
    root = Path(extra["root"]) / "drivers" / "cpp"
    found: list[str] = []
    for path in (folder / DRIVER_FILES.get(model, "cpu.cc"), root / "utilities.hpp",
                 folder / "baseline.hpp"):
        try:
            text = path.read_text()
        except OSError:
            continue
        for line in re.findall(r"^\s*#\s*include\s*<([^>]+)>", text, re.MULTILINE):
            include = f"#include <{line}>"
            if include not in found and not re.search(r"omp\.h|mpi\.h|Kokkos|cuda|hip", line):
                found.append(include)
    return found


def _summarize(outcome: dict, runs: list[dict], best: list[float], resources: list[str]) -> None:
    outcome["validation"] = runs
    outcome["valid"] = len(outcome["times"]) == len(resources) and not any(
        "rerun" in r for r in runs)
    outcome["status"] = "passed" if outcome["valid"] else "invalid"
    if outcome["valid"] and best:
        outcome["baseline_s"] = min(best)
        outcome["speedups"] = {r: (outcome["baseline_s"] / t if t > 0 else 0.0)
                               for r, t in outcome["times"].items()}
