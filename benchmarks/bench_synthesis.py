"""Harness synthesis benchmark (issue: verified without a handwritten harness).

For each example (saxpy, dot, jacobi, spmv, matmul, histogram), the tester's work on the
verified OpenMP port is timed two ways, the build cache off:

- shipped: build original and candidate with the example's own harness, run the
  differential test (every test size, the race reruns);
- synthesized: the example copied to a temporary folder without its harness, a harness
  synthesized from the function, saved, then the same builds and differential test.

Each is run ``--runs`` times (interleaved), the median taken, and the ratio
synthesized / shipped reported per example and over all (target <= 1.5). Run it on a quiet
machine: .venv/bin/python benchmarks/bench_synthesis.py [--runs 5] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = ("saxpy", "dot", "jacobi", "spmv", "matmul", "histogram")


class _NoCache:
    """Every build compiles (a cache hit would time nothing)."""

    def key(self, *args, **kwargs):
        return ""

    def lookup(self, *args):
        return None

    def store(self, *args):
        return None


def _setup():
    from ellora.agents.services import services_from_settings
    from ellora.agents.settings import load_settings

    def no_model():
        raise RuntimeError("the benchmark uses no model")

    return services_from_settings(load_settings(), model_factory=no_model)


def _port(source: str) -> str:
    """The verified OpenMP rewrite of the example's loops (the candidate the tester sees)."""
    from ellora.tools.loops.region import plan_region

    plan = plan_region(source, 1, source.count("\n") + 1, "openmp")
    if plan.source is None:
        raise SystemExit(f"no OpenMP port of this example: {plan.first_refusal}")
    return plan.source


def _test_once(services, folder: Path, name: str, original: str, candidate: str,
               harness: Path) -> float:
    """Build both variants with ``harness`` and run the differential test; seconds taken."""
    from ellora.agents.tester import run_differential_test
    from ellora.tools.verify import VerifySpec, build_variant, prepare_workspace

    started = time.perf_counter()
    spec = VerifySpec(f"{name}.cpp", original, candidate, str(folder), str(harness))
    toolchain = services.toolchain
    recipes = {"original": toolchain.recipe("serial"), "candidate": toolchain.recipe("openmp")}
    workspace = prepare_workspace(services.sandbox, spec)
    try:
        for variant in ("original", "candidate"):
            build = build_variant(services.sandbox, workspace, spec, variant, recipes[variant],
                                  services.limits, _NoCache())
            if not build.ok:
                raise SystemExit(f"{name}: the {variant} does not build:\n{build.log[-2000:]}")
        test = run_differential_test(services, workspace, spec, recipes, services.limits)
        if test.status != "passed":
            raise SystemExit(f"{name}: the differential test did not pass: {test.message}")
    finally:
        services.sandbox.discard_workspace(workspace)
    return time.perf_counter() - started


def _shipped(services, name: str, original: str, candidate: str) -> float:
    folder = REPO / "examples"
    return _test_once(services, folder, name, original, candidate,
                      folder / f"{name}.harness.cpp")


def _synthesized(services, name: str, original: str, candidate: str) -> float:
    from ellora.agents.tester import harness_sizes
    from ellora.tools.synthesis import synthesize_harness

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        shutil.copy(REPO / "examples" / f"{name}.cpp", folder / f"{name}.cpp")  # no harness
        started = time.perf_counter()
        made = synthesize_harness(original, 1, original.count("\n") + 1, f"{name}.cpp",
                                  harness_sizes(services.settings.agent))
        harness = folder / f"{name}.synthesized.harness.cpp"
        harness.write_text(made.text)
        synthesis = time.perf_counter() - started
        return synthesis + _test_once(services, folder, name, original, candidate, harness)


def measure(services, runs: int) -> dict:
    """Median seconds per example and way, and the ratios."""
    results = {}
    for name in EXAMPLES:
        original = (REPO / "examples" / f"{name}.cpp").read_text()
        candidate = _port(original)
        samples = {"shipped": [], "synthesized": []}
        for _ in range(runs):
            samples["shipped"].append(_shipped(services, name, original, candidate))
            samples["synthesized"].append(_synthesized(services, name, original, candidate))
        shipped, synthesized = (statistics.median(samples[k]) for k in samples)
        results[name] = {"shipped_s": shipped, "synthesized_s": synthesized,
                         "ratio": synthesized / shipped, "samples": samples}
    total_shipped = sum(r["shipped_s"] for r in results.values())
    total_synthesized = sum(r["synthesized_s"] for r in results.values())
    return {"examples": results, "ratio": total_synthesized / total_shipped,
            "median_ratio": statistics.median(r["ratio"] for r in results.values()),
            "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds per example (median)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    if args.runs < 1:
        print("bench_synthesis: --runs must be at least 1 (e.g. --runs 5)", file=sys.stderr)
        return 2
    result = measure(_setup(), args.runs)
    print("| example | shipped harness (s) | synthesized harness (s) | ratio |")
    print("|---|---|---|---|")
    for name, row in result["examples"].items():
        print(f"| {name} | {row['shipped_s']:.2f} | {row['synthesized_s']:.2f} | "
              f"{row['ratio']:.2f} |")
    print(f"| all (sum of medians) | | | {result['ratio']:.2f} (target <= 1.5) |")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
