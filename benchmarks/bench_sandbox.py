"""What the sandbox costs: a ~0.5 s CPU-bound C program run raw vs sandboxed, interleaved in
one session, plus the start-up overhead of a run (``true`` raw vs sandboxed).

    python benchmarks/bench_sandbox.py [--runs 10] [--isolation auto] [--out bench.json]

Prints a Markdown table; ``--out`` also writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ellora.sandbox import Limits
from ellora.sandbox.local import LocalSandbox

KERNEL = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    long n = atol(argv[1]);
    double x = 0.0;
    for (long i = 1; i <= n; i++) x += 1.0 / ((double)i * (double)i);
    printf("%.12f\n", x);
    return 0;
}
"""
TARGET_S = 0.5
LIMITS = Limits(wall_s=60, cpu_s=60, memory_mb=1024, procs=64)


def build(folder: Path) -> Path:
    """Compile the kernel at -O2 on the host."""
    source, binary = folder / "kernel.c", folder / "kernel"
    source.write_text(KERNEL)
    subprocess.run(["gcc", "-O2", "-o", str(binary), str(source)], check=True)
    return binary


def time_raw(argv: list[str], cwd: Path) -> float:
    """Wall seconds of one plain subprocess run."""
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def time_sandboxed(sandbox: LocalSandbox, argv: list[str], workspace: Path) -> float:
    """Wall seconds of one sandboxed run, as the caller sees it (set-up and clean-up included)."""
    start = time.perf_counter()
    result = sandbox.run(argv, workspace, LIMITS)
    elapsed = time.perf_counter() - start
    if not result.ok:
        raise RuntimeError(f"sandboxed run failed: {result}")
    return elapsed


def calibrate(binary: Path, folder: Path) -> int:
    """The iteration count that makes the kernel take about TARGET_S seconds raw."""
    n = 50_000_000
    seconds = time_raw([str(binary), str(n)], folder)
    return max(1_000_000, int(n * TARGET_S / max(seconds, 1e-3)))


def interleave(runs: int, raw, boxed) -> tuple[list[float], list[float]]:
    """``runs`` raw and sandboxed timings, alternating so drift hits both alike."""
    raw_times, boxed_times = [], []
    for _ in range(runs):
        raw_times.append(raw())
        boxed_times.append(boxed())
    return raw_times, boxed_times


def measure(runs: int, isolation: str) -> dict:
    """All figures of the benchmark as one dict."""
    sandbox = LocalSandbox(isolation=isolation)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ellora-bench-") as tmp:
        folder = Path(tmp)
        binary = build(folder)
        n = calibrate(binary, folder)
        workspace = sandbox.new_workspace("bench-")
        try:
            shutil.copy2(binary, workspace / "kernel")
            kernel = ["./kernel", str(n)]
            time_sandboxed(sandbox, ["true"], workspace)  # warm-up: probe, caches
            raw, boxed = interleave(runs, lambda: time_raw([str(binary), str(n)], folder),
                                    lambda: time_sandboxed(sandbox, kernel, workspace))
            true_raw, true_boxed = interleave(
                runs, lambda: time_raw(["true"], folder),
                lambda: time_sandboxed(sandbox, ["true"], workspace))
        finally:
            sandbox.discard_workspace(workspace)
    figures = summarize(runs, n, sandbox.isolation, raw, boxed, true_raw, true_boxed)
    figures["load_average"] = [load_before, os.getloadavg()[0]]  # 1-min, before and after
    return figures


def summarize(runs, n, isolation, raw, boxed, true_raw, true_boxed) -> dict:
    """Medians, ratios and overheads from the raw timings."""
    pair_ratios = [b / r for r, b in zip(raw, boxed)]
    return {
        "isolation": isolation, "runs": runs, "iterations": n,
        "host": platform.node(), "cpus": os.cpu_count(),
        "kernel_raw_median_s": statistics.median(raw),
        "kernel_sandboxed_median_s": statistics.median(boxed),
        "median_ratio": statistics.median(pair_ratios),
        "ratio_of_medians": statistics.median(boxed) / statistics.median(raw),
        "target_ratio": 1.05,
        "startup_raw_median_ms": 1000 * statistics.median(true_raw),
        "startup_sandboxed_median_ms": 1000 * statistics.median(true_boxed),
        "startup_overhead_ms": 1000 * (statistics.median(true_boxed)
                                       - statistics.median(true_raw)),
        "samples": {"kernel_raw_s": raw, "kernel_sandboxed_s": boxed,
                    "true_raw_s": true_raw, "true_sandboxed_s": true_boxed},
    }


def markdown(figures: dict) -> str:
    """The figures as a Markdown table."""
    ok = "yes" if figures["median_ratio"] <= figures["target_ratio"] else "NO"
    rows = [
        ("isolation", figures["isolation"]),
        ("host CPUs / load average before, after",
         "{} / {:.2f}, {:.2f}".format(figures["cpus"], *figures["load_average"])),
        ("runs (interleaved)", figures["runs"]),
        ("CPU kernel raw, median", f"{figures['kernel_raw_median_s']:.3f} s"),
        ("CPU kernel sandboxed, median", f"{figures['kernel_sandboxed_median_s']:.3f} s"),
        ("median of per-pair ratios", f"{figures['median_ratio']:.3f} (target <= 1.05: {ok})"),
        ("ratio of medians", f"{figures['ratio_of_medians']:.3f}"),
        ("`true` raw, median", f"{figures['startup_raw_median_ms']:.1f} ms"),
        ("`true` sandboxed, median", f"{figures['startup_sandboxed_median_ms']:.1f} ms"),
        ("start-up overhead per run", f"{figures['startup_overhead_ms']:.1f} ms"),
    ]
    lines = ["| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--isolation", choices=("auto", "bubblewrap", "rlimits"), default="auto")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if shutil.which("gcc") is None:
        print("bench_sandbox: error: needs gcc", file=sys.stderr)
        return 2
    figures = measure(args.runs, args.isolation)
    print(markdown(figures))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
