"""Report node: one record of what was done, why, the evidence and what it cost."""

from __future__ import annotations

import difflib
from pathlib import Path

from ellora.agents.services import Services
from ellora.agents.state import StepTimer, TaskState

CHECK_ADVICE = {
    "verified": "review the diff; the test compares results on generated inputs, so also run "
    "your own tests on real data",
    "unverified": "correctness was NOT established: add a harness (<name>.harness.cpp) or test "
    "the change yourself before using it",
    "failed": "no change is offered; see the build and test logs",
    "refused": "no change is offered; the loop has a dependence that makes naive "
    "parallelization wrong",
    "not_faster": "no change is offered: the port passed its tests but was not faster than "
    "your code here; keep the original (the diff shows what was tried)",
}


def unified_diff(original: str, candidate: str, file_name: str) -> str:
    return "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            candidate.splitlines(keepends=True),
            fromfile=f"a/{file_name}",
            tofile=f"b/{file_name}",
        )
    )


def build_report(state: TaskState) -> dict:
    """The final report as plain data (the CLI prints it, --json dumps it)."""
    from ellora.agents.tester import harness_summary
    steps = state.get("steps", [])
    status = state.get("status", "failed")
    candidate = state.get("candidate")
    diff = (
        unified_diff(state["original"], candidate, state["file"])
        if candidate and status in ("verified", "unverified", "not_faster")
        else ""
    )
    totals = {
        key: sum(step.get(key, 0) for step in steps)
        for key in (
            "seconds",
            "model_seconds",
            "build_seconds",
            "run_seconds",
            "input_tokens",
            "output_tokens",
        )
    }
    return {
        "task_id": state.get("task_id"),
        "task": state["task"],
        "file": state["file"],
        "lines": [state["first_line"], state["last_line"]],
        "target_model": state["target_model"],
        "status": status,
        "status_reason": state.get("status_reason", ""),
        "plan": state.get("plan", {}),
        "change_origin": state.get("candidate_origin"),
        "explanation": state.get("explanation", ""),
        "attempts": state.get("attempts", 0),
        "diff": diff,
        "build": {
            v: {k: b.get(k) for k in ("ok", "command", "seconds", "diagnostics")}
            for v, b in (state.get("build") or {}).items()
        },
        "test": state.get("test"),
        "harness": harness_summary(state),
        "user_test": state.get("user_test"),
        "timings": state.get("timings"),
        "speedups": state.get("speedups", {}),
        "optimizations": state.get("optimizations", []),
        "sources": state.get("sources", []),
        "model": {
            "input_tokens": totals["input_tokens"],
            "output_tokens": totals["output_tokens"],
            "seconds": round(totals["model_seconds"], 3),
        },
        "time": {
            "total_s": round(totals["seconds"], 3),
            "model_s": round(totals["model_seconds"], 3),
            "build_s": round(totals["build_seconds"], 3),
            "run_s": round(totals["run_seconds"], 3),
        },
        "check": CHECK_ADVICE.get(status, ""),
        "steps": [
            {"node": s["node"], "summary": s["summary"], "seconds": round(s["seconds"], 3)}
            for s in steps
        ],
    }


def report(state: TaskState, services: Services) -> dict:
    timer = StepTimer("report")
    if state.get("workspace") and not services.settings.sandbox.keep_workspaces:
        services.sandbox.discard_workspace(Path(state["workspace"]))
    step = timer.record(f"status: {state.get('status', 'failed')}")
    final = build_report({**state, "steps": [*state.get("steps", []), step]})
    return {"report": final, "steps": [step]}
