"""``ellora eval report RUN...``: metrics per programming model and per problem type, model
alone vs agent side by side, as JSON, Markdown tables and PNG plots."""

from __future__ import annotations

import fnmatch
import json
from collections import defaultdict
from pathlib import Path

from ellora.evals import metrics
from ellora.evals.programming import resource_total, uses_model
from ellora.evals.store import RunStore


def run_label(arguments: dict) -> str:
    return f"{arguments['model']} ({'agent' if arguments.get('agent') else 'alone'})"


def task_label(record: dict) -> str:
    if record.get("kind") == "translation":
        return f"{record.get('source')}->{record.get('target')}"
    return f"generate {record.get('target')}"


def _by_problem(records: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        grouped[record["problem"]].append(record)
    return grouped


def _speedups(record: dict, resource: str) -> float:
    passed = record.get("valid") is True
    return metrics.sample_speedup(record.get("baseline_s"), (record.get("times") or {}).get(resource),
                                  passed)


def _parallel(record: dict) -> bool:
    """Whether the sample uses its target model (older records: computed from the code)."""
    if "uses_model" in record:
        return bool(record["uses_model"])
    return uses_model(record.get("code"), record.get("target", "serial"))


def _race_checked(record: dict) -> bool:
    """Whether Ellora's static race check reads this sample: C/C++ code with OpenMP as the
    target (Fortran sources are translated into Fortran, which it does not read)."""
    return record.get("target") == "openmp" and record.get("source") != "fortran"


def _race_free(record: dict) -> bool:
    """No race in the sample's ``#pragma omp parallel for`` loops by the static check the
    agent's tester uses: a suite's validation (ParEval's: 1,024 elements, a few threads)
    lets a race pass by luck, the check does not depend on the schedule."""
    from ellora.tools.race_check import openmp_race_findings

    return not any(kind == "race" for kind, _ in openmp_race_findings(record.get("code") or ""))


def _best_per_n(record: dict) -> dict[int, float]:
    """A sample's best speedup for each total resource count n (1x2 and 2x1 share n=2)."""
    best: dict[int, float] = {}
    for resource in record.get("resources", []):
        n = resource_total(resource)
        best[n] = max(best.get(n, 0.0), _speedups(record, resource))
    return best


def group_metrics(records: list[dict], ks: list[int]) -> dict:
    """Metrics of one group (e.g. serial->openmp of one run), averaged over its problems.

    Samples whose validity is unknown (CUDA built here, no GPU to run it) count for build@k
    only. pass@k and speedup@k skip problems that have fewer than k such samples.
    """
    problems = _by_problem(records)
    resources = sorted({r for rec in records for r in rec.get("resources", [])},
                       key=lambda r: (resource_total(r), r))
    out: dict = {"problems": len(problems), "samples": len(records), "resources": resources}
    for k in ks:
        built = [metrics.build_at_k(len(s), sum(bool(r.get("built")) for r in s), k)
                 for s in problems.values() if len(s) >= k]
        out[f"build@{k}"] = metrics.mean_over_problems(built)
        runnable = {p: [r for r in s if r.get("valid") is not None] for p, s in problems.items()}
        runnable = {p: s for p, s in runnable.items() if len(s) >= k}
        out[f"pass@{k}"] = metrics.mean_over_problems(
            metrics.pass_at_k(len(s), sum(r["valid"] is True for r in s), k)
            for s in runnable.values())
        out[f"parallel_pass@{k}"] = metrics.mean_over_problems(
            metrics.pass_at_k(len(s), sum(r["valid"] is True and _parallel(r) for r in s), k)
            for s in runnable.values())
        if records and all(_race_checked(r) for r in records):
            out[f"race_free_pass@{k}"] = metrics.mean_over_problems(
                metrics.pass_at_k(len(s), sum(r["valid"] is True and _parallel(r) and
                                              _race_free(r) for r in s), k)
                for s in runnable.values())
        for resource in resources:
            n = resource_total(resource)
            values = [metrics.speedup_at_k([_speedups(r, resource) for r in s], k)
                      for s in runnable.values()]
            out[f"speedup_{resource}@{k}"] = metrics.mean_over_problems(values)
            out[f"efficiency_{resource}@{k}"] = metrics.mean_over_problems(v / n for v in values)
        per_sample = {p: [_best_per_n(r) for r in s] for p, s in runnable.items()}
        out[f"speedup_max@{k}"] = metrics.mean_over_problems(
            metrics.speedup_max_at_k(v, k) for v in per_sample.values())
        out[f"efficiency_max@{k}"] = metrics.mean_over_problems(
            metrics.efficiency_max_at_k(v, k) for v in per_sample.values())
    return out


def summarize_run(run_dir: Path, ks: list[int], problems: list[str] | None = None) -> dict:
    """Everything the report says about one run (only ``problems`` patterns, if given)."""
    store = RunStore(run_dir)
    arguments = store.arguments()
    records = [r for r in store.records() if "target" in r and (
        not problems or any(fnmatch.fnmatch(r["problem"], p) for p in problems))]
    groups: dict[str, list[dict]] = defaultdict(list)
    types: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in records:
        groups[task_label(record)].append(record)
        types[(record.get("problem_type", "?"), task_label(record))].append(record)
    tokens = {key: sum(int(r.get(key) or 0) for r in records)
              for key in ("input_tokens", "output_tokens")}
    return {
        "run": str(run_dir), "label": run_label(arguments), "arguments": arguments,
        "samples": len(records), "tokens": tokens,
        "generation_s": round(sum(float(r.get("generation_s") or 0) for r in records), 1),
        "wall_s": round(sum(float(r.get("wall_s") or 0) for r in records), 1),
        "statuses": _count(r.get("status", "?") for r in records),
        "by_task": {label: group_metrics(rs, ks) for label, rs in sorted(groups.items())},
        "by_type": {f"{t}|{label}": group_metrics(rs, ks)
                    for (t, label), rs in sorted(types.items())},
        "speedup_samples": {label: [max(r.get("speedups", {}).values(), default=0.0)
                                    for r in rs if r.get("valid") is True]
                            for label, rs in groups.items()},
    }


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return dict(sorted(counts.items()))


def reference_seconds(run_dirs: list[Path]) -> dict[str, float]:
    """Per problem, the median time of the serial reference at the timing size over every
    timed sample of these runs (each timing pass times the reference next to the sample)."""
    import statistics

    seen: dict[str, list[float]] = defaultdict(list)
    for run_dir in run_dirs:
        for record in RunStore(Path(run_dir)).records():
            if record.get("baseline_s"):
                seen[record["problem"]].append(float(record["baseline_s"]))
    return {problem: statistics.median(values) for problem, values in seen.items()}


def large_problems(run_dirs: list[Path], min_seconds: float) -> tuple[list[str], list[str]]:
    """(problems whose reference takes at least ``min_seconds``, problems never timed in
    these runs): "large enough to benefit" made measurable. Include a reference run (the
    serial code handed back) so that every problem has a timed reference."""
    seconds = reference_seconds(run_dirs)
    everything = {r["problem"] for d in run_dirs for r in RunStore(Path(d)).records()
                  if "problem" in r}
    large = sorted(p for p, s in seconds.items() if s >= min_seconds)
    return large, sorted(everything - set(seconds))


def write_report(run_dirs: list[Path], out_dir: Path, ks: list[int] | None = None,
                 plots: bool = True, problems: list[str] | None = None,
                 min_reference_s: float | None = None) -> list[Path]:
    """report.json, report.md and (with matplotlib) PNG plots in ``out_dir``; with
    ``min_reference_s``, only problems whose serial reference takes at least that long."""
    from ellora.evals.report_render import plot_pass_at_1, plot_speedups, render_markdown

    ks = ks or [1]
    subset = None
    if min_reference_s is not None:
        large, untimed = large_problems(run_dirs, min_reference_s)
        chosen = [p for p in large if not problems or any(fnmatch.fnmatch(p, q) for q in problems)]
        subset = {"min_reference_s": min_reference_s, "problems": chosen, "untimed": untimed}
        problems = chosen or ["(none)"]
    out_dir.mkdir(parents=True, exist_ok=True)
    reviews = [Path(d) for d in run_dirs if RunStore(Path(d)).arguments().get("review")]
    written = [path for d in reviews for path in _review(d, out_dir)]
    runs = [summarize_run(Path(d), ks, problems) for d in run_dirs if Path(d) not in reviews]
    if not runs:
        return written
    written += [out_dir / "report.json", out_dir / "report.md"]
    written[-2].write_text(json.dumps({"ks": ks, "subset": subset, "runs": runs}, indent=1,
                                      default=str))
    markdown = render_markdown(runs, ks)
    if subset:
        markdown = markdown.replace("# Eval report\n", (
            f"# Eval report\n\nOnly the {len(subset['problems'])} problems whose serial "
            f"reference takes at least {subset['min_reference_s']} s at the timing size: "
            f"{', '.join(subset['problems']) or 'none'}"
            + (f" (never timed in these runs: {', '.join(subset['untimed'])})"
               if subset["untimed"] else "") + ".\n"), 1)
    written[-1].write_text(markdown)
    if plots:
        written += [plot_pass_at_1(runs, out_dir / "pass_at_1.png"),
                    plot_speedups(runs, out_dir / "speedups.png")]
    return written


def _review(run_dir: Path, out_dir: Path) -> list[Path]:
    """review.md and ratings.csv for a question-answer run, and a ratings summary if filled."""
    from ellora.evals.chatkokkos import rating_summary, write_review

    target = out_dir / f"review-{run_dir.name}"
    written = write_review(RunStore(run_dir).records(), target)
    summary = rating_summary(target / "ratings.csv")
    path = target / "ratings-summary.json"
    path.write_text(json.dumps(summary, indent=1))
    return [*written, path]
