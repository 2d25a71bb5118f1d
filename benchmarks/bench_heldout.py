"""Loops no one here wrote and no benchmark tunes: the serial reference implementations in
ParEval's drivers (``drivers/cpp/benchmarks/*/*/baseline.hpp``, 60 functions, not the
translation sources the ParEval benchmark gives the agent). Each is planned for a target
with the engine alone (no model); every function the plan rewrites is tested against the
original with a harness synthesized from the original (the tester's differential test and
race-check reruns, as the agent runs it); the report counts, per target, how many functions
were rewritten, how many of those the synthesized test could run, and how many passed.

Run: .venv/bin/python benchmarks/bench_heldout.py --pareval /path/to/ParEval \\
        [--targets openmp,kokkos,mpi] [--out runs/heldout.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

PRELUDE = ("#include <vector>\n#include <cmath>\n#include <algorithm>\n#include <complex>\n"
           "#include <string>\n#include <array>\n#include <numeric>\n#include <queue>\n"
           "#include <stack>\n#include <map>\n#include <unordered_map>\n#include <limits>\n"
           "#include <functional>\n#define NO_INLINE\n")


def baseline_sources(pareval: Path) -> dict[str, str]:
    """Each problem's baseline.hpp as a translation unit: the driver's own helpers (structs
    such as Point come from its other headers) are not there, so functions over them are
    planned but not tested."""
    found = {}
    for path in sorted(pareval.glob("drivers/cpp/benchmarks/*/*/baseline.hpp")):
        text = path.read_text().replace("#pragma once", "")
        found[path.parent.name] = PRELUDE + text
    return found


def reference_lines(source: str) -> tuple[int, int]:
    """The lines of the reference function (``correct...``; the last definition if none)."""
    from ellora.tools.loops.cpp import CppSource
    from ellora.tools.loops.cpp.scope import function_name, walk

    parsed = CppSource(source)
    definitions = [n for n in walk(parsed.tree.root_node) if n.type == "function_definition"]
    chosen = next((d for d in definitions if (function_name(d) or "").startswith("correct")),
                  definitions[-1] if definitions else None)
    if chosen is None:
        return 1, source.count("\n") + 1
    return chosen.start_point[0] + 1, chosen.end_point[0] + 1


def check(services, name: str, source: str, target: str) -> dict:
    from ellora.agents.tester import harness_sizes, run_differential_test
    from ellora.tools.loops.region import plan_region
    from ellora.tools.synthesis import CannotSynthesize, synthesize_harness
    from ellora.tools.verify import VerifySpec, build_variant, prepare_workspace

    first, last = reference_lines(source)
    plan = plan_region(source, first, last, target)
    if plan.source is None:
        return {"status": "kept", "why": plan.first_refusal[:200]}
    try:
        harness = synthesize_harness(source, first, last, f"{name}.cpp",
                                     harness_sizes(services.settings.agent))
    except CannotSynthesize as why:
        return {"status": "untested", "why": str(why)[:200]}
    except Exception as why:  # noqa: BLE001 -- a synthesis crash is reported, not hidden
        return {"status": "untested", "why": f"synthesis failed: {why}"[:200]}
    with tempfile.TemporaryDirectory() as folder:
        harness_path = Path(folder) / f"{name}.harness.cpp"
        harness_path.write_text(harness.text)
        spec = VerifySpec(f"{name}.cpp", source, plan.source, folder, str(harness_path))
        toolchain = services.toolchain
        recipe = {"openmp": "openmp", "kokkos": "kokkos", "mpi": "mpi"}[target]
        recipes = {"original": toolchain.recipe("serial"), "candidate": toolchain.recipe(recipe)}
        workspace = prepare_workspace(services.sandbox, spec)
        try:
            for variant in ("original", "candidate"):
                build = build_variant(services.sandbox, workspace, spec, variant,
                                      recipes[variant], services.limits)
                if not build.ok:
                    status = "original does not build" if variant == "original" else "failed"
                    return {"status": status, "why": build.log[-600:]}
            test = run_differential_test(services, workspace, spec, recipes, services.limits)
        finally:
            services.sandbox.discard_workspace(workspace)
    return {"status": "passed" if test.status == "passed" else "failed",
            "why": "; ".join(c.detail for c in test.cases if not c.passed)[:400]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pareval", type=Path, required=True)
    parser.add_argument("--targets", default="openmp,kokkos,mpi")
    parser.add_argument("--out", type=Path, default=Path("runs/heldout.json"))
    parser.add_argument("--problems", default="", help="comma-separated name parts")
    args = parser.parse_args(argv)
    if not (args.pareval / "drivers" / "cpp" / "benchmarks").is_dir():
        print(f"bench_heldout: {args.pareval} is not a ParEval checkout "
              "(fetch parallelcodefoundry/ParEval)", file=sys.stderr)
        return 2
    from ellora.agents.services import services_from_settings
    from ellora.agents.settings import load_settings

    services = services_from_settings(load_settings({"agent": {
        "test_sizes": [0, 1, 7, 1001, 100_003], "min_speedup": 0.0}}),
        model_factory=lambda: None)
    results: dict[str, dict[str, dict]] = {}
    for target in args.targets.split(","):
        results[target] = {}
        for name, source in baseline_sources(args.pareval).items():
            if args.problems and not any(p in name for p in args.problems.split(",")):
                continue
            results[target][name] = check(services, name, source, target)
            print(f"{target:7s} {name:55s} {results[target][name]['status']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print("\n| target | functions | rewritten | tested | passed | failed |")
    print("|---|---|---|---|---|---|")
    for target, rows in results.items():
        counts = Counter(row["status"] for row in rows.values())
        rewritten = len(rows) - counts["kept"]
        tested = counts["passed"] + counts["failed"]
        print(f"| {target} | {len(rows)} | {rewritten} | {tested} | {counts['passed']} | "
              f"{counts['failed']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
