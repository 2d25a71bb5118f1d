"""Benchmark of the eval runner (issue: evals).

Measures, in one process and one run:
- harness overhead: the same samples (built-in problems, serial -> OpenMP, the suite's own
  code as the candidate) through the runner (Parsl, sandbox, records: build reference and
  candidate, validate at every size and thread count, time) vs a raw shell loop running the
  same compiler and binary command lines (``g++ ... && ./candidate ...``) on the same files,
  interleaved; target: runner throughput >= 0.9 x raw;
- scaling: a build-bound batch (Kokkos builds) with 2 Parsl workers vs 1; target >= 1.7x.

Run: .venv/bin/python benchmarks/bench_evals.py [--rounds 2] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

OVERHEAD_PROBLEMS = ["reduce_sum", "reduce_dot", "transform_relu", "stencil_1d_average",
                     "scan_prefix_sum", "histogram_bins"]
SCALING_PROBLEMS = ["reduce_sum", "reduce_dot", "transform_relu", "stencil_1d_average",
                    "reduce_norm2", "transform_negate_odds", "geometry_points_in_circle",
                    "reduce_count_above", "dense_la_gemv", "dense_la_transpose",
                    "graph_degrees", "graph_edge_count", "stencil_2d_jacobi",
                    "transform_polynomial", "reduce_max_abs", "geometry_polygon_perimeter"]


def _settings(workers: int, build_bound: bool = False):
    """The runner's settings; ``build_bound``: one short timing round and no race check, so
    the batch's time is its builds (what the scaling target is about)."""
    from ellora.agents.settings import load_settings

    evals = {"timing_repeats": 3, "threads": [1, 2], "parsl": {"workers": workers}}
    if build_bound:
        evals.update(timing_repeats=1, timing_rounds=1, race_check=[])
    return load_settings({"evals": evals})


def _problems(names: list[str]):
    from ellora.evals.suite import BUILTIN_SUITE, load_suite

    return [p for p in load_suite(BUILTIN_SUITE) if p.name in names]


PHASES: list[dict] = []  # where each runner run's time went (phases.jsonl), in run order


def run_runner(out: Path, names: list[str], target: str, workers: int,
               build_bound: bool = False) -> float:
    """Seconds for a fresh runner run of the suite's own code translated to ``target``."""
    from ellora.evals.runner import RunSpec, run_eval
    from ellora.evals.store import RunStore

    spec = RunSpec(suite="builtin", model="reference", kinds=["translation"], models=[target],
                   sources=["serial"], problems=names)
    started = time.perf_counter()
    run_dir = run_eval(spec, _settings(workers, build_bound), _problems(names), "builtin", out,
                       quiet=True)
    seconds = time.perf_counter() - started
    store = RunStore(run_dir)
    statuses = {r["status"] for r in store.records()}
    if statuses != {"passed"}:
        raise SystemExit(f"benchmark samples did not all pass: {statuses}")
    PHASES.append({"workers": workers, "total_s": round(seconds, 3), **store.phases()[-1]})
    return seconds


def raw_script(names: list[str], settings) -> str:
    """The runner's command lines for each sample, as one plain shell loop."""
    from ellora.evals import execute
    from ellora.sandbox import create_sandbox
    from ellora.tools.toolchain import detect_toolchain

    toolchain = detect_toolchain(create_sandbox("local"))
    serial, openmp = toolchain.recipe("serial"), toolchain.recipe("openmp")
    lines = ["set -e"]
    repeats = settings.evals.timing_repeats
    for problem in _problems(names):
        folder = problem.name
        q = shlex.join
        lines += [f"cd {folder}", q(execute.build_command(serial))]
        lines.append("mv candidate reference")
        lines += [q(["./reference", *execute.check_args(s, f"expected-{s}.bin")])
                  for s in problem.check_sizes]
        lines.append(q(execute.build_command(openmp)))
        for threads in settings.evals.check_resources("openmp"):
            for size in problem.check_sizes:
                lines.append(f"OMP_NUM_THREADS={threads} " + q(
                    ["./candidate", *execute.check_args(size, "candidate.out")]))
                lines.append(f"cmp -s candidate.out expected-{size}.bin")
        for _ in range(settings.evals.timing_rounds):
            lines.append(q(["./reference", *execute.time_args(problem.timing_size, repeats)]))
            for threads in settings.evals.threads:
                lines.append(f"OMP_NUM_THREADS={threads} " + q(
                    ["./candidate", *execute.time_args(problem.timing_size, repeats)]))
        lines.append("cd ..")
    return "\n".join(lines) + "\n"


def run_raw(names: list[str]) -> float:
    """Seconds for the raw loop, run as ONE sandboxed command (no per-command overhead)."""
    import shutil

    from ellora.sandbox import Limits, create_sandbox
    from ellora.tools.verify import HARNESS_HEADER

    settings = _settings(1)
    sandbox = create_sandbox("local")
    workspace = sandbox.new_workspace("bench-raw-")
    try:
        for problem in _problems(names):
            folder = workspace / problem.name
            folder.mkdir()
            shutil.copy(problem.source_path("serial"), folder / "candidate.cpp")
            shutil.copy(problem.harness, folder / "harness.cpp")
            shutil.copy(HARNESS_HEADER, folder / HARNESS_HEADER.name)
        (workspace / "raw.sh").write_text(raw_script(names, settings))
        started = time.perf_counter()
        result = sandbox.run(["bash", "raw.sh"], workspace, Limits(wall_s=1800, cpu_s=7200))
        seconds = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"raw loop failed: {result.stderr[-500:]}")
        return seconds
    finally:
        sandbox.discard_workspace(workspace)


def overhead(rounds: int, scratch: Path) -> dict:
    raw, runner = [], []
    for index in range(rounds):  # interleaved, so both see the same machine
        raw.append(run_raw(OVERHEAD_PROBLEMS))
        runner.append(run_runner(scratch / f"overhead-{index}", OVERHEAD_PROBLEMS, "openmp", 1))
    ratio = statistics.median(raw) / statistics.median(runner)
    return {"samples": len(OVERHEAD_PROBLEMS), "raw_s": raw, "runner_s": runner,
            "throughput_ratio": round(ratio, 3), "target": 0.9, "met": ratio >= 0.9}


def scaling(rounds: int, scratch: Path) -> dict:
    one, two = [], []
    for index in range(rounds):
        one.append(run_runner(scratch / f"w1-{index}", SCALING_PROBLEMS, "kokkos", 1, True))
        two.append(run_runner(scratch / f"w2-{index}", SCALING_PROBLEMS, "kokkos", 2, True))
    ratio = statistics.median(one) / statistics.median(two)
    return {"samples": len(SCALING_PROBLEMS), "one_worker_s": one, "two_workers_s": two,
            "speedup": round(ratio, 3), "target": 1.7, "met": ratio >= 1.7,
            "phases": PHASES[-2 * rounds:], "load_average": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=["overhead", "scaling"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-evals-") as scratch:
        if args.only in (None, "overhead"):
            results["overhead"] = overhead(args.rounds, Path(scratch))
            print(json.dumps({"overhead": results["overhead"]}), flush=True)
        if args.only in (None, "scaling"):
            results["scaling"] = scaling(args.rounds, Path(scratch))
            print(json.dumps({"scaling": results["scaling"]}), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0 if all(r["met"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
