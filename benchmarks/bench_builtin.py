"""The built-in suite through the agent, with a timed serial reference in the same session.

Runs ``ellora eval run builtin --agent`` for one source language (``serial`` is C++,
``fortran`` is Fortran) and the given target models, then ``--model reference`` (the
suite's own serial code, timed the same way), and reports both together: all problems, and
the problems whose serial reference takes at least 20 ms at the timing size (those large
enough to benefit from 2 threads or ranks).

Run: .venv/bin/python benchmarks/bench_builtin.py --sources serial --models omp,kokkos,mpi \\
        [--out runs/] [--name builtin-cxx]
     .venv/bin/python benchmarks/bench_builtin.py --sources fortran --models omp,mpi
The reports go to <out>/<name>/report-all/ and <out>/<name>/report-20ms/ (report.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ELLORA = [sys.executable, "-m", "ellora.agents.cli.main"]


def _run(out: Path, name: str, model: str, sources: str, models: str, agent: bool) -> Path:
    command = [*ELLORA, "eval", "run", "builtin", "--model", model, "--kinds", "translation",
               "--sources", sources, "--models", models, "--samples", "1", "--out", str(out),
               "--name", name, "--workers", "1", "--quiet"]
    subprocess.run(command + (["--agent"] if agent else []), check=True)
    return out / name


def _table(report_dir: Path) -> list[str]:
    report = json.loads((report_dir / "report.json").read_text())
    lines = []
    for entry in report["runs"]:
        for task, figures in sorted(entry["by_task"].items()):
            lines.append(f"| {entry.get('label', entry.get('run', ''))} | {task} | "
                         f"{figures.get('problems', '')} | {figures.get('pass@1', 0):.2f} | "
                         f"{figures.get('parallel_pass@1', 0):.2f} | "
                         f"{figures.get('speedup_1@1', 0):.2f} | "
                         f"{figures.get('speedup_2@1', 0):.2f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default="serial", help="serial (C++) or fortran")
    parser.add_argument("--models", default="omp,kokkos,mpi")
    parser.add_argument("--out", type=Path, default=REPO / "runs")
    parser.add_argument("--name", default="")
    args = parser.parse_args(argv)
    name = args.name or f"bench-builtin-{args.sources}"
    folder = args.out / name
    agent = _run(folder, "agent", "embedded", args.sources, args.models, agent=True)
    reference = _run(folder, "reference", "reference", args.sources, args.models, agent=False)
    for label, extra in (("all", []), ("20ms", ["--min-reference-s", "0.02"])):
        subprocess.run([*ELLORA, "eval", "report", str(agent), str(reference),
                        "--out", str(folder / f"report-{label}"), "--no-plots", *extra],
                       check=True)
        print(f"\n{label} problems ({folder / f'report-{label}' / 'report.md'}):")
        print("| run | task | problems | pass@1 | parallel_pass@1 | speedup_1@1 | "
              "speedup_2@1 |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(_table(folder / f"report-{label}")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
