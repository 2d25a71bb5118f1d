"""Build benchmarks (issue: sandbox and toolchains).

- Build caching: the same harness build twice, the second a content-addressed cache hit;
  ratio first/second (target >= 20x), median of several runs, each with an empty cache.
- Parallel builds: N distinct builds (cache off) with 1 worker vs 2 workers on this 2-core
  machine; throughput ratio (target >= 1.7x), median of several runs.

Run: .venv/bin/python benchmarks/bench_build.py [--runs 3] [--builds 6] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _setup():
    from ellora.agents.services import create_task_sandbox
    from ellora.agents.settings import load_settings
    from ellora.tools.toolchain import detect_toolchain

    sandbox = create_task_sandbox(load_settings())
    return sandbox, detect_toolchain(sandbox)


def _spec(variant_number: int = 0):
    from ellora.tools.verify import VerifySpec

    source = (REPO / "examples" / "saxpy.cpp").read_text() + f"\n// variant {variant_number}\n"
    return VerifySpec("saxpy.cpp", source, source, str(REPO / "examples"),
                      str(REPO / "examples" / "saxpy.harness.cpp"))


def _build(sandbox, recipe, spec, cache) -> float:
    from ellora.sandbox import Limits
    from ellora.tools.verify import build_variant, prepare_workspace

    workspace = prepare_workspace(sandbox, spec)
    try:
        start = time.perf_counter()
        outcome = build_variant(sandbox, workspace, spec, "candidate", recipe, Limits(), cache)
        assert outcome.ok, outcome.log
        return time.perf_counter() - start
    finally:
        sandbox.discard_workspace(workspace)


def cache_ratio(sandbox, recipe, runs: int) -> dict:
    from ellora.tools.build_cache import BuildCache

    ratios, firsts, seconds = [], [], []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            cache = BuildCache(Path(folder))
            spec = _spec(1000 + run)
            first = _build(sandbox, recipe, spec, cache)
            second = _build(sandbox, recipe, spec, cache)
        firsts.append(first)
        seconds.append(second)
        ratios.append(first / second)
    return {"first_build_s": statistics.median(firsts), "cached_build_s": statistics.median(seconds),
            "ratio": statistics.median(ratios)}


class _NoCache:
    def key(self, *args, **kwargs):
        return ""

    def lookup(self, *args):
        return None

    def store(self, *args):
        return None


def parallel_ratio(sandbox, recipe, runs: int, builds: int) -> dict:
    ratios = []
    for run in range(runs):
        throughput = {}
        for workers in (1, 2):
            specs = [_spec(run * 100 + workers * 10 + i) for i in range(builds)]
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(lambda s: _build(sandbox, recipe, s, _NoCache()), specs))
            throughput[workers] = builds / (time.perf_counter() - start)
        ratios.append(throughput[2] / throughput[1])
    return {"ratio": statistics.median(ratios), "runs": ratios}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--builds", type=int, default=6)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sandbox, toolchain = _setup()
    recipe = toolchain.recipe("openmp")
    result = {"cache": cache_ratio(sandbox, recipe, args.runs),
              "parallel": parallel_ratio(sandbox, recipe, args.runs, args.builds)}
    cache, parallel = result["cache"], result["parallel"]
    print("| benchmark | median | target |\n|---|---|---|")
    print(f"| build: first {cache['first_build_s']:.3f} s / cached {cache['cached_build_s']:.4f} s "
          f"| {cache['ratio']:.1f}x | >= 20x |")
    print(f"| {args.builds} builds, 2 workers vs 1 (throughput) | {parallel['ratio']:.2f}x | >= 1.7x |")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
