"""Human-readable rendering of progress lines and of the final report."""

from __future__ import annotations


def progress_line(step: dict) -> str:
    cost = f" ({step['seconds']:.1f}s)" if step.get("seconds", 0) >= 0.05 else ""
    return f"[{step['node']}] {step['summary']}{cost}"


def _build_lines(report: dict) -> list[str]:
    lines = []
    for variant, build in (report.get("build") or {}).items():
        state = "ok" if build.get("ok") else "FAILED"
        lines.append(
            f"  {variant}: {state} in {build.get('seconds', 0):.1f}s: "
            f"{' '.join(build.get('command') or [])}"
        )
        for diagnostic in (build.get("diagnostics") or [])[:5]:
            if diagnostic["severity"] == "error":
                lines.append(
                    f"    {diagnostic['file']}:{diagnostic['line']}: {diagnostic['message']}"
                )
    return lines


def _test_lines(report: dict) -> list[str]:
    test = report.get("test")
    if not test:
        return ["  not run"]
    lines = [f"  {test['status']}: {test['method']}"]
    lines += [
        f"    size {c['size']}: {'ok' if c['passed'] else 'FAIL'}: {c['detail']}"
        for c in test.get("cases", [])
    ]
    if test.get("message"):
        lines.append(f"  {test['message']}")
    user = report.get("user_test")
    if user:
        lines.append(f"  {user['status']}: {user['method']}")
    return lines


def _speedup_lines(report: dict) -> list[str]:
    speedups, timings = report.get("speedups") or {}, report.get("timings") or {}
    if not speedups:
        return ["  not measured"]
    lines = [f"  original (serial build): {timings['original_s'] * 1e3:.3f} ms"]
    efficiency = timings.get("efficiency", {})
    unit = "rank(s)" if timings.get("backend", "").startswith("MPI") else "thread(s)"
    for threads, speedup in speedups.items():
        seconds = timings["candidate_s"][threads]
        lines.append(
            f"  candidate, {threads} {unit}: {seconds * 1e3:.3f} ms  "
            f"speedup {speedup:.2f}x  efficiency {efficiency.get(threads, 0):.0%}"
        )
    lines.append(f"  backend {timings.get('backend')}; {timings.get('method')}")
    if timings.get("size_note"):
        lines.append(f"  {timings['size_note']}")
    hotspots = timings.get("hotspots") or {}
    if hotspots.get("available") and hotspots.get("top_functions"):
        lines.append(f"  hotspots (callgrind, 1 thread, {hotspots['total_instructions']:,} "
                     "instructions):")
        lines += [f"    {f['share']:6.1%}  {f['file']}: {f['function'][:80]}"
                  for f in hotspots["top_functions"]]
    if timings.get("load_average") is not None:
        busy = timings["load_average"] > (timings.get("cores") or 1) * 0.5
        lines.append(
            f"  machine load average {timings['load_average']} on "
            f"{timings.get('cores')} cores"
            + ("; other work shared the cores, so multi-thread figures understate" if busy else "")
        )
    return lines


def _harness_lines(report: dict) -> list[str]:
    harness = report.get("harness") or {}
    if harness.get("origin") == "synthesized" and harness.get("path"):
        return [(f"  harness synthesized from {harness.get('function', 'the function')}: "
                f"{harness['path']} (rerun it, keep it as a regression test)")]
    if harness.get("reason"):
        return [f"  no harness: {harness['reason']}"]
    return []


def render_report(report: dict) -> str:
    plan = report.get("plan") or {}
    parts = [
        (
            f"Task {report['task_id']}: {report['task']} ({report['file']}:"
            f"{report['lines'][0]}-{report['lines'][1]}, target {report['target_model']})"
        ),
        *([f"Target: {report['target_model']}: {report['target_reason']}"]
          if report.get("target_reason") else []),
        "",
        "Plan:",
        f"  strategy: {plan.get('strategy')}: {plan.get('why')}",
        f"  pattern: {plan.get('pattern')}",
        f"  test: {plan.get('test_strategy')}",
        f"  expected speedup: {plan.get('expected_speedup')}",
    ]
    if report.get("explanation"):
        parts += ["", f"Change ({report.get('change_origin')}): {report['explanation']}"]
    if report.get("diff"):
        parts += ["", "Diff:", report["diff"].rstrip()]
    parts += [
        "",
        "Build:",
        *(_build_lines(report) or ["  not run"]),
        "",
        "Test:",
        *_test_lines(report),
        *_harness_lines(report),
        "",
        "Speedup:",
        *_speedup_lines(report),
    ]
    if report.get("optimizations"):
        parts += ["", "Optimize round:"] + [
            f"  {o['variant']}: {o['result']} ({o['why']})" for o in report["optimizations"]
        ]
    if report.get("sources"):
        parts += ["", "Sources:"] + [
            f"  {s.get('repository', '')} {s.get('path')}:{s.get('lines')}"
            for s in report["sources"]
        ]
    model, timing = report["model"], report["time"]
    parts += [
        "",
        (
            f"Model: {model['input_tokens']} tokens in, {model['output_tokens']} out, "
            f"{model['seconds']:.1f}s"
        ),
        (
            f"Time: {timing['total_s']:.1f}s total (model {timing['model_s']:.1f}s, build "
            f"{timing['build_s']:.1f}s, runs {timing['run_s']:.1f}s)"
        ),
        "",
        f"Status: {report['status'].upper()}: {report['status_reason']}",
        f"Check: {report['check']}",
    ]
    return "\n".join(parts)
