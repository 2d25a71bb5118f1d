"""ParEval translation tasks through the agent (issue: ordinary C++ / the typed loop model).

Runs ``ellora eval run pareval:PATH --agent`` on ParEval's serial->OpenMP and serial->MPI
translation tasks (its own drivers, 1 and 2 threads/ranks, ParEval's serial baseline T*
timed in the same binary), every passing sample's validation rerun ``--reruns`` times
(ParEval's own check uses 1,024 elements and two trials), then reports per model: pass@1
(a refusal submits the original code, which is what the user keeps), parallel_pass@1
(passes every rerun AND uses the target model), speedup_2@1 over ParEval's T* (failed
samples count 0), how many samples failed a rerun, and the agent's verdicts.

Speedup agreement (the agent's speedup on its own harness vs the driver's, verified ports
whose baseline runs >= 20 ms) is reported twice: against ParEval's T* (its own serial
baseline, a different code from the one the agent was given), and against the driver's
timing of the original code the agent was given (``--model reference`` on the same tasks in
the same session: the source unchanged, built and timed by the same driver), which is what
the agent's speedup claims to measure.

Run: .venv/bin/python benchmarks/bench_pareval.py --pareval /path/to/ParEval \\
        [--models omp,mpi] [--reruns 20] [--out runs/] [--name-suffix quiet]
The figures go to <out>/bench-pareval-<model>/report/ and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ELLORA = [sys.executable, "-m", "ellora.agents.cli.main"]


def run_model(pareval: Path, model: str, reruns: int, out: Path, name: str,
              problems: str = "") -> Path:
    run = out / name
    command = [*ELLORA, "eval", "run", f"pareval:{pareval}", "--model", "embedded", "--agent",
               "--kinds", "translation", "--sources", "serial", "--models", model,
               "--samples", "1", "--out", str(out), "--name", name, "--workers", "1",
               "--set", f"evals.validation_reruns={reruns}", "--quiet",
               *(["--problems", problems] if problems else [])]
    subprocess.run(command, check=True)
    subprocess.run([*ELLORA, "eval", "report", str(run), "--out", str(run / "report")],
                   check=True)
    return run


def run_reference(pareval: Path, model: str, reruns: int, out: Path, name: str,
                  problems: str = "") -> Path:
    """The driver's timing of the original code (the translation source, unchanged), timed
    again in every validation rerun (each rerun also times T* in the same binary)."""
    run = out / name
    subprocess.run([*ELLORA, "eval", "run", f"pareval:{pareval}", "--model", "reference",
                    "--kinds", "translation", "--sources", "serial", "--models", model,
                    "--samples", "1", "--out", str(out), "--name", name, "--workers", "1",
                    "--set", f"evals.validation_reruns={reruns}", "--quiet",
                    *(["--problems", problems] if problems else [])], check=True)
    return run


def original_speedups(reference_run: Path | None) -> dict[str, float]:
    """Per problem: the original code's speedup over T* (driver), the median of its first run
    and every rerun at one thread/rank (at more ranks each rank runs the whole serial code,
    sharing the memory bus with the others). Each run divides by T* timed in the same binary,
    so a machine that drifts between runs cancels out of the ratio."""
    if reference_run is None or not (reference_run / "records.jsonl").is_file():
        return {}
    found = {}
    for line in (reference_run / "records.jsonl").read_text().splitlines():
        record = json.loads(line) if line.strip() else {}
        runs = driver_speedups(record, "1")
        if runs:
            found[record["problem"]] = statistics.median(runs)
    return found


def summarize(run: Path, reference_run: Path | None = None) -> dict:
    report = json.loads((run / "report" / "report.json").read_text())
    [entry] = report["runs"]
    [task] = entry["by_task"].values()
    records = [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()
               if line.strip()]
    failed_reruns = [r["problem"] for r in records
                     if any(v.get("validation") != "PASS"
                            for v in r.get("reruns") or [])]
    verdicts = Counter((r.get("agent") or {}).get("status", "none") for r in records)
    confusion = Counter()
    agreement = []
    originals = original_speedups(reference_run)
    for r in records:
        agent = r.get("agent") or {}
        driver = "PASS" if r.get("status") == "passed" and not any(
            v.get("validation") != "PASS" for v in r.get("reruns") or []) else "FAIL"
        confusion[f"{agent.get('status', 'none')} / driver {driver}"] += 1
        ours, theirs = (agent.get("speedups") or {}).get("2"), (r.get("speedups") or {}).get("2")
        if agent.get("status") == "verified" and ours and theirs and \
                (r.get("baseline_s") or 0) >= 0.02:
            row = {"problem": r["problem"], "agent": round(ours, 3),
                   "driver": round(theirs, 3), "ratio": round(ours / theirs, 3)}
            runs = driver_speedups(r, "2")
            if len(runs) >= 3:  # the driver's own spread, and its median as the figure
                middle = statistics.median(runs)
                row.update(driver_median=round(middle, 3), ratio_median=round(ours / middle, 3),
                           driver_runs=len(runs), driver_runs_within_25=sum(
                               0.75 <= x / middle <= 1.25 for x in runs))
            if r["problem"] in originals:  # port vs original, both timed by the driver
                versus_original = row.get("driver_median", theirs) / originals[r["problem"]]
                row.update(driver_vs_original=round(versus_original, 3),
                           ratio_vs_original=round(ours / versus_original, 3))
            agreement.append(row)
    return {"run": str(run), "samples": entry["samples"], "pass@1": task.get("pass@1"),
            "parallel_pass@1": task.get("parallel_pass@1"),
            "speedup_2@1": task.get("speedup_2@1"), "speedup_1@1": task.get("speedup_1@1"),
            "failed_reruns": failed_reruns, "agent_verdicts": dict(verdicts),
            "statuses": entry.get("statuses"), "confusion": dict(confusion),
            "speedup_agreement": agreement,
            "within_25_percent": sum(0.75 <= a["ratio"] <= 1.25 for a in agreement),
            "within_25_percent_vs_original": sum(
                0.75 <= a.get("ratio_vs_original", 0) <= 1.25 for a in agreement),
            "compared_vs_original": sum("ratio_vs_original" in a for a in agreement),
            "within_25_percent_vs_driver_median": sum(
                0.75 <= a.get("ratio_median", 0) <= 1.25 for a in agreement),
            "compared_vs_driver_median": sum("ratio_median" in a for a in agreement),
            "driver_runs_within_25_of_their_median": (
                sum(a.get("driver_runs_within_25", 0) for a in agreement),
                sum(a.get("driver_runs", 0) for a in agreement))}


def driver_speedups(record: dict, resource: str) -> list[float]:
    """The driver's speedups over T* at ``resource`` threads/ranks: the first run's and one
    per validation rerun at that count (each rerun times the code and T* again)."""
    found = []
    first = (record.get("speedups") or {}).get(resource)
    if first:
        found.append(first)
    for rerun in record.get("reruns") or []:
        if rerun.get("resource") == resource and rerun.get("time") and rerun.get("best"):
            found.append(rerun["best"] / rerun["time"])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pareval", type=Path, required=True, help="a ParEval checkout")
    parser.add_argument("--models", default="omp,mpi")
    parser.add_argument("--reruns", type=int, default=20)
    parser.add_argument("--out", type=Path, default=REPO / "runs")
    parser.add_argument("--name-suffix", default="")
    parser.add_argument("--problems", default="",
                        help="comma-separated ParEval problem names (default: every task)")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the driver timing of the original code (agreement vs T* only)")
    args = parser.parse_args(argv)
    if not (args.pareval / "prompts" / "translation-prompts.json").is_file():
        print(f"{args.pareval} is not a ParEval checkout (no prompts/translation-prompts.json):"
              " give --pareval the folder of github.com/parallelcodefoundry/ParEval",
              file=sys.stderr)
        return 2
    rows = []
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        name = f"bench-pareval-{model}" + (f"-{args.name_suffix}" if args.name_suffix else "")
        run = run_model(args.pareval, model, args.reruns, args.out, name, args.problems)
        reference = None if args.no_reference else run_reference(
            args.pareval, model, args.reruns, args.out, f"{name}-reference", args.problems)
        rows.append((model, summarize(run, reference)))
    print("| model | samples | pass@1 | parallel_pass@1 | speedup_1@1 | speedup_2@1 | "
          "failed reruns | agent verdicts |")
    print("|---|---|---|---|---|---|---|---|")
    for model, s in rows:
        print(f"| {model} | {s['samples']} | {s['pass@1']:.2f} | {s['parallel_pass@1']:.2f} | "
              f"{s['speedup_1@1']:.2f} | {s['speedup_2@1']:.2f} | {len(s['failed_reruns'])} | "
              f"{s['agent_verdicts']} |")
    for model, s in rows:
        print(f"\n{model}: agent verdict / driver verdict (every rerun): {s['confusion']}")
        print(f"{model}: agent harness speedup_2 within 25% of the driver's on "
              f"{s['within_25_percent']}/{len(s['speedup_agreement'])} verified ports whose "
              "serial baseline runs >= 20 ms (vs ParEval's T*); "
              f"{s['within_25_percent_vs_original']}/{s['compared_vs_original']} against the "
              "driver's timing of the original code; "
              f"{s['within_25_percent_vs_driver_median']}/{s['compared_vs_driver_median']} "
              "against the median of the driver's runs (first run and reruns at 2); the "
              "driver's own runs fall within 25% of their median "
              f"{'/'.join(map(str, s['driver_runs_within_25_of_their_median']))} times")
    print(json.dumps({model: s for model, s in rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
