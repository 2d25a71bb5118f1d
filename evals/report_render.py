"""Markdown tables and matplotlib plots for ``ellora eval report``."""

from __future__ import annotations

from pathlib import Path

NOTE = ("pass@k and build@k: 1 - C(N-c,k)/C(N,k) per problem, averaged over problems; "
        "parallel_pass@k counts only passing samples that use the target model at all "
        "(serial code handed back passes validation but does not); race_free_pass@k also "
        "asks Ellora's static race check to find no race in the OpenMP loops (C/C++ only). "
        "speedup_n@k: expected best T*/T_n of k samples (failed samples count 0); "
        "efficiency = speedup / n; _max: best over the measured resource counts. "
        "T* is the serial reference timed in the same rounds.")


def _cell(value, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows] + [""]


def _task_table(run: dict, k: int) -> list[str]:
    resources = sorted({r for g in run["by_task"].values() for r in g["resources"]},
                       key=lambda r: (len(r), r))
    header = ["task", "problems", "samples", f"build@{k}", f"pass@{k}", f"parallel_pass@{k}",
              f"race_free_pass@{k}", *[f"speedup_{r}@{k}" for r in resources], f"speedup_max@{k}",
              f"efficiency_max@{k}"]
    rows = []
    for label, g in run["by_task"].items():
        rows.append([label, str(g["problems"]), str(g["samples"]), _cell(g.get(f"build@{k}")),
                     _cell(g.get(f"pass@{k}")), _cell(g.get(f"parallel_pass@{k}")),
                     _cell(g.get(f"race_free_pass@{k}")),
                     *[_cell(g.get(f"speedup_{r}@{k}")) for r in resources],
                     _cell(g.get(f"speedup_max@{k}")), _cell(g.get(f"efficiency_max@{k}"))])
    return _table(header, rows)


def _type_table(run: dict, k: int) -> list[str]:
    tasks = sorted({key.split("|", 1)[1] for key in run["by_type"]})
    types = sorted({key.split("|", 1)[0] for key in run["by_type"]})
    header = ["problem type", *[f"{t} pass@{k} / speedup_max@{k}" for t in tasks]]
    rows = []
    for kind in types:
        cells = []
        for task in tasks:
            g = run["by_type"].get(f"{kind}|{task}")
            cells.append("" if g is None else
                         f"{_cell(g.get(f'pass@{k}'))} / {_cell(g.get(f'speedup_max@{k}'))}")
        rows.append([kind, *cells])
    return _table(header, rows)


def _side_by_side(runs: list[dict], k: int) -> list[str]:
    tasks = sorted({label for run in runs for label in run["by_task"]})
    header = ["task", *[f"{run['label']} pass@{k} / speedup_max@{k}" for run in runs]]
    rows = []
    for task in tasks:
        cells = []
        for run in runs:
            g = run["by_task"].get(task)
            cells.append("" if g is None else
                         f"{_cell(g.get(f'pass@{k}'))} / {_cell(g.get(f'speedup_max@{k}'))}")
        rows.append([task, *cells])
    return _table(header, rows)


def render_markdown(runs: list[dict], ks: list[int]) -> str:
    """The whole report as Markdown."""
    lines = ["# Eval report", ""]
    if len(runs) > 1:
        lines += ["## Side by side", ""]
        for k in ks:
            lines += _side_by_side(runs, k)
    for run in runs:
        summary = (f"Run `{run['run']}`: {run['samples']} samples, "
                   f"{run['tokens']['output_tokens']} output tokens, generation "
                   f"{run['generation_s']} s, total sample time {run['wall_s']} s.")
        lines += [f"## {run['label']}", "", summary, "",
                  "Statuses: " + ", ".join(f"{s} {n}" for s, n in run["statuses"].items()), ""]
        for k in ks:
            lines += [f"### Per programming model (k={k})", ""] + _task_table(run, k)
            lines += [f"### Per problem type (k={k})", ""] + _type_table(run, k)
    lines += [NOTE, ""]
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_pass_at_1(runs: list[dict], path: Path) -> Path:
    """Grouped bars: pass@1 per task (programming model), one bar per run."""
    plt = _pyplot()
    tasks = sorted({label for run in runs for label in run["by_task"]})
    figure, axes = plt.subplots(figsize=(max(6, 1.2 * len(tasks) * max(1, len(runs))), 4))
    width = 0.8 / max(1, len(runs))
    for index, run in enumerate(runs):
        values = [(run["by_task"].get(t) or {}).get("pass@1") or 0.0 for t in tasks]
        positions = [i + index * width for i in range(len(tasks))]
        axes.bar(positions, values, width, label=run["label"])
    axes.set_xticks([i + width * (len(runs) - 1) / 2 for i in range(len(tasks))], tasks,
                    rotation=20)
    axes.set_ylim(0, 1)
    axes.set_ylabel("pass@1")
    axes.set_title("pass@1 by programming model")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def plot_speedups(runs: list[dict], path: Path) -> Path:
    """Box plots of the best speedup of every passing sample, per run and task."""
    plt = _pyplot()
    labels, data = [], []
    for run in runs:
        for task, values in sorted(run["speedup_samples"].items()):
            labels.append(f"{run['label']}\n{task}")
            data.append(values or [0.0])
    figure, axes = plt.subplots(figsize=(max(6, 1.6 * len(labels)), 4))
    if data:
        axes.boxplot(data)
        axes.set_xticks(range(1, len(labels) + 1), labels, rotation=20, fontsize=7)
    axes.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    axes.set_ylabel("speedup over the serial reference (best n)")
    axes.set_title("speedup distribution of passing samples")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
