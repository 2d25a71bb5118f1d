"""Rerun ellora-agent on every example and write its report to examples/reports/.

The reports are the agent's own text output (plan, diff, build, test, speedup); run this on a
quiet machine (the speedups are measured, and a port not faster than the original is not
offered). Run: .venv/bin/python benchmarks/regenerate_reports.py [--only dot,saxpy.f90]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
TASKS = {"openmp": "parallelize this loop with OpenMP", "kokkos": "port this loop to Kokkos",
         "mpi": "parallelize this loop with MPI"}
# file -> (lines, targets)
REPORTS = {
    "saxpy.cpp": ("5-7", ("openmp", "kokkos")), "dot.cpp": ("6-8", ("openmp", "kokkos")),
    "heat.cpp": ("8-15", ("openmp", "kokkos")), "histogram.cpp": ("6-11", ("openmp", "kokkos")),
    "jacobi.cpp": ("7-12", ("openmp", "kokkos")), "matmul.cpp": ("5-11", ("openmp", "kokkos")),
    "spmv.cpp": ("5-11", ("openmp", "kokkos")),
    "saxpy.f90": ("10-12", ("openmp", "mpi")), "dot.f90": ("12-14", ("openmp", "mpi")),
    "jacobi.f90": ("15-19", ("openmp", "mpi")), "spmv.f90": ("13-19", ("openmp", "mpi")),
}


def report_name(file_name: str, target: str) -> str:
    stem = file_name[:-4] if file_name.endswith(".cpp") else file_name
    return f"{stem}.{target}.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated example file names")
    args = parser.parse_args(argv)
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = wanted - {name.removesuffix(".cpp") for name in REPORTS} - set(REPORTS)
    if unknown:
        print(f"unknown example {sorted(unknown)[0]!r}: choose from {', '.join(REPORTS)}",
              file=sys.stderr)
        return 2
    agent = [sys.executable, "-m", "ellora.agents.cli.agent_command"]
    for file_name, (lines, targets) in REPORTS.items():
        if wanted and file_name not in wanted and file_name.removesuffix(".cpp") not in wanted:
            continue
        for target in targets:
            done = subprocess.run([*agent, TASKS[target], "--file", file_name, "--lines", lines,
                                   "--quiet"], cwd=EXAMPLES, capture_output=True, text=True,
                                  env={**os.environ})
            (EXAMPLES / "reports" / report_name(file_name, target)).write_text(done.stdout)
            status = next((line for line in done.stdout.splitlines()
                           if line.startswith("Status:")), done.stderr.strip()[-200:])
            print(f"{file_name} {target}: {status}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
