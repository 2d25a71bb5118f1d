"""Ellora's own model (issue: fine-tune the embedded model on ports the engine verified):
the base embedded model against the same model with a LoRA adapter, same settings, one run.

For each model (``base``, and ``tuned`` when ``--adapter`` names a GGUF LoRA adapter from
``ellora train export-gguf``) this runs, through the ``ellora eval`` command a user runs:

- the model alone on ParEval's serial->OpenMP translation tasks (build@1, pass@1,
  parallel_pass@1: passes ParEval's validation, rerun ``--reruns`` times, AND uses OpenMP;
  race_free_pass@1: also no race by Ellora's static race check);
- the model alone on the built-in suite's serial->OpenMP and serial->Kokkos tasks;
- the model inside the agent on ParEval's serial->OpenMP tasks with
  ``agent.prefer_transformations=false`` (the model writes, the tester checks): how many
  tasks end VERIFIED, how many correct but not faster (the original kept), and why the rest
  failed.

Every sample is generated at temperature 0.2 with the evaluation's seed (``--seed``; sample i
uses seed + i), ``max_tokens`` 512. Prints a Markdown table; ``--out`` keeps the runs.

    .venv/bin/python benchmarks/bench_own_model.py --pareval /path/to/ParEval \\
        --adapter ellora-omp.gguf [--only tuned] [--skip agent,kokkos] [--problems 'reduce_*']

About 45 minutes per model on two cores (the agent run is the longest).
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "ellora.agents.cli.main"]
SUITES = ("pareval", "agent", "omp", "kokkos")
ALONE = ["--kinds", "translation", "--sources", "serial", "--samples", "1",
         "--set", "evals.max_tokens=512", "--workers", "1", "--quiet"]
AGENT = ["--agent", "--set", "agent.prefer_transformations=false",
         "--set", "agent.max_fix_attempts=0", "--set", "model.max_tokens=512"]


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    uses_pareval = "pareval" in args.suites or "agent" in args.suites
    if uses_pareval and not (args.pareval / "drivers").is_dir():
        print(f"error: {args.pareval} is not a ParEval checkout (no drivers/): "
              "pass --pareval PATH", file=sys.stderr)
        return 2
    if args.adapter is not None and not args.adapter.is_file():
        print(f"error: no adapter at {args.adapter}: pass the .gguf that `ellora train "
              "export-gguf` wrote", file=sys.stderr)
        return 2
    models = {"base": []}
    if args.adapter is not None:
        models["tuned"] = ["--set", f"model.lora_path={args.adapter.resolve()}"]
    if args.only:
        models = {name: extra for name, extra in models.items() if name == args.only}
    rows = []
    for name, extra in models.items():
        row = {"model": name}
        for suite in args.suites:
            run = args.out / f"own-{name}-{suite}"
            _evaluate(args, suite, extra, run)
            row[suite] = _agent_verdicts(run) if suite == "agent" else _scores(run)
        rows.append(row)
    print(_table(rows, args.suites))
    (args.out / "bench_own_model.json").write_text(json.dumps(rows, indent=2))
    return 0


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pareval", type=Path, default=Path("ParEval"), help="ParEval checkout")
    parser.add_argument("--adapter", type=Path, help="GGUF LoRA adapter of the tuned model")
    parser.add_argument("--only", choices=("base", "tuned"), help="run one model only")
    parser.add_argument("--skip", default="", help=f"leave out some of {','.join(SUITES)}")
    parser.add_argument("--problems", help="only these problem name patterns")
    parser.add_argument("--reruns", type=int, default=10, help="validation reruns of a pass")
    parser.add_argument("--seed", type=int, default=1234, help="evals.seed")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-own-model"))
    args = parser.parse_args(argv)
    skipped = {s for s in args.skip.split(",") if s}
    unknown = skipped - set(SUITES)
    if unknown:
        parser.error(f"--skip {','.join(sorted(unknown))}: choose from {','.join(SUITES)}")
    if args.only == "tuned" and args.adapter is None:
        parser.error("--only tuned needs --adapter FILE.gguf")
    args.suites = [s for s in SUITES if s not in skipped]
    return args


def _evaluate(args, suite: str, extra: list[str], run: Path) -> None:
    source = "builtin" if suite in ("omp", "kokkos") else f"pareval:{args.pareval}"
    target = "kokkos" if suite == "kokkos" else "omp"
    reruns = 0 if suite == "agent" else args.reruns
    command = [*CLI, "eval", "run", source, "--model", "embedded", "--models", target, *ALONE,
               "--set", f"evals.validation_reruns={reruns}", "--set", f"evals.seed={args.seed}",
               *(AGENT if suite == "agent" else []), *extra,
               "--out", str(run.parent), "--name", run.name]
    if args.problems:
        command += ["--problems", args.problems]
    subprocess.run(command, check=True)


def _scores(run: Path) -> dict:
    """build@1, pass@1, parallel_pass@1 and (for OpenMP) race_free_pass@1, as the report."""
    from ellora.evals.report import group_metrics

    records = [json.loads(line) for line in (run / "records.jsonl").open()]
    scores = group_metrics(records, [1])
    return {"samples": len(records), **{key: scores.get(key) for key in (
        "build@1", "pass@1", "parallel_pass@1", "race_free_pass@1")}}


def _agent_verdicts(run: Path) -> dict:
    generations = [json.loads(line) for line in (run / "generations.jsonl").open()]
    reasons = collections.Counter(
        (g["agent"].get("status_reason") or "").split(":")[0].split(" (")[0].split(" after ")[0]
        for g in generations if g["agent"]["status"] not in ("verified", "not_faster"))
    statuses = collections.Counter(g["agent"]["status"] for g in generations)
    return {"tasks": len(generations), "verified": statuses["verified"],
            "not_faster": statuses["not_faster"], "failed": dict(reasons.most_common())}


def _table(rows: list[dict], suites: list[str]) -> str:
    titles = {"pareval": "ParEval serial->OpenMP", "omp": "built-in serial->OpenMP",
              "kokkos": "built-in serial->Kokkos", "agent": "agent on ParEval OpenMP"}
    header = ["model"] + [titles[s] for s in suites]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["model"]]
        for suite in suites:
            got = row[suite]
            if suite == "agent":
                cells.append(f"{got['verified']}/{got['tasks']} VERIFIED, "
                             f"{got['not_faster']} not faster")
            else:
                race_free = got.get("race_free_pass@1")
                cells.append(f"build {got['build@1']:.2f} / pass {got['pass@1']:.2f} / "
                             f"parallel {got['parallel_pass@1']:.2f}"
                             + (f" / race-free {race_free:.2f}" if race_free is not None else "")
                             + f" ({got['samples']} samples)")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
