"""Markdown reports the editor opens next to the code (``window/showDocument``)."""

from __future__ import annotations

from pathlib import Path


def _build_section(report: dict) -> list[str]:
    lines = ["## Build", ""]
    builds = report.get("build") or {}
    if not builds:
        return [*lines, "Not built.", ""]
    for variant, build in builds.items():
        state = "ok" if build.get("ok") else "**failed**"
        lines.append(
            f"- {variant}: {state} in {build.get('seconds') or 0:.1f} s: "
            f"`{' '.join(build.get('command') or [])}`"
        )
        for diagnostic in (build.get("diagnostics") or [])[:8]:
            if diagnostic.get("severity") == "error":
                lines.append(f"  - line {diagnostic.get('line')}: {diagnostic.get('message')}")
    return [*lines, ""]


def _test_section(report: dict) -> list[str]:
    test = report.get("test")
    lines = ["## Test", ""]
    if not test:
        return [*lines, "Not run.", ""]
    lines.append(f"**{test.get('status')}**: {test.get('method')}")
    lines += [f"Harness ({h['origin']}): {h.get('path') or h.get('reason')}"
              for h in [report.get("harness")] if h]
    lines += [
        f"- size {case['size']}: {'ok' if case['passed'] else 'FAIL'} {case['detail']}"
        for case in test.get("cases", [])
    ]
    if test.get("message"):
        lines += ["", test["message"]]
    return [*lines, ""]


def _speedup_section(report: dict) -> list[str]:
    speedups, timings = report.get("speedups") or {}, report.get("timings") or {}
    lines = ["## Speedup", ""]
    if not speedups or not timings.get("original_s"):
        return [*lines, "Not measured.", ""]
    lines += [
        "| variant | threads | time (ms) | speedup |",
        "|---|---|---|---|",
        f"| original (serial build) | 1 | {timings['original_s'] * 1e3:.3f} | 1.00x |",
    ]
    for threads, speedup in speedups.items():
        seconds = (timings.get("candidate_s") or {}).get(threads)
        shown = f"{seconds * 1e3:.3f}" if isinstance(seconds, int | float) else "?"
        lines.append(f"| candidate | {threads} | {shown} | {speedup:.2f}x |")
    lines += ["", f"Backend {timings.get('backend')}; {timings.get('method')}", ""]
    return lines


def _sources_section(report: dict) -> list[str]:
    sources = report.get("sources") or []
    lines = ["## Sources used", ""]
    if not sources:
        return [*lines, "None (no knowledge-graph retrieval for this task).", ""]
    for source in sources:
        where = f"{source.get('repository', '')} {source.get('path', '')}".strip()
        span = source.get("lines")
        lines.append(f"- {where}" + (f" lines {span[0]}-{span[1]}" if span else ""))
    return [*lines, ""]


def agent_report_markdown(report: dict, applied: str) -> str:
    """The whole report: status, plan, change, build, test, speedups, sources, diff, cost."""
    plan = report.get("plan") or {}
    first, last = (report.get("lines") or [0, 0])[:2]
    parts = [
        f"# Ellora: {report.get('task')}",
        "",
        (
            f"`{report.get('file')}` lines {first}-{last}, target "
            f"{report.get('target_model')}, task `{report.get('task_id')}`"
        ),
        "",
        *([f"Target: {report.get('target_model')}: {report['target_reason']}", ""]
          if report.get("target_reason") else []),
        f"**Status: {report.get('status')}**"
        + (f": {report['status_reason']}" if report.get("status_reason") else ""),
        "",
        f"Edit: {applied}",
        "",
        f"Check: {report.get('check', '')}",
        "",
        "## Plan",
        "",
        f"- strategy: {plan.get('strategy')}: {plan.get('why')}",
        f"- pattern: {plan.get('pattern')}",
        f"- test: {plan.get('test_strategy')}",
        f"- expected speedup: {plan.get('expected_speedup')}",
        "",
    ]
    if report.get("explanation"):
        parts += ["## Change", "", f"({report.get('change_origin')}) {report['explanation']}", ""]
    parts += _build_section(report) + _test_section(report) + _speedup_section(report)
    parts += _sources_section(report)
    if report.get("diff"):
        parts += ["## Diff", "", "```diff", report["diff"].rstrip("\n"), "```", ""]
    cost = report.get("time") or {}
    model = report.get("model") or {}
    parts += [
        "## Cost",
        "",
        (
            f"{cost.get('total_s', 0)} s in all (model "
            f"{cost.get('model_s', 0)} s, builds {cost.get('build_s', 0)} s, "
            f"runs {cost.get('run_s', 0)} s); {model.get('input_tokens', 0)} "
            f"tokens in, {model.get('output_tokens', 0)} out"
        ),
        "",
    ]
    return "\n".join(parts)


def explanation_markdown(file: str, first: int, last: int, text: str, model: dict) -> str:
    cost = (
        f"Model {model.get('name')}: {model.get('input_tokens', 0)} tokens in, "
        f"{model.get('output_tokens', 0)} out"
    )
    return "\n".join(
        [
            f"# Ellora: explanation of `{Path(file).name}` lines {first}-{last}",
            "",
            text,
            "",
            "---",
            cost,
            "",
        ]
    )


def write_report(folder: Path, name: str, markdown: str) -> Path:
    """Write ``markdown`` to ``folder/name.md`` and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(markdown)
    return path
