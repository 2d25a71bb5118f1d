"""Tester node: build original and candidate in the sandbox and test one against the other."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ellora.agents.services import Services
from ellora.agents.state import StepTimer, TaskState
from ellora.tools.race_check import openmp_race_findings
from ellora.tools.toolchain import ToolchainMissing
from ellora.tools.verify import (
    VerifySpec,
    build_variant,
    differential_test,
    first_errors,
    prepare_workspace,
    run_user_tests,
)
from langgraph.types import Command


def verify_spec(state: TaskState) -> VerifySpec:
    return VerifySpec(
        Path(state["file"]).name,
        state["original"],
        state["candidate"],
        str(Path(state["file"]).resolve().parent),
        state.get("harness"),
    )


def tester(
    state: TaskState, services: Services
) -> Command[Literal["coder", "optimizer", "report"]]:
    timer = StepTimer("tester")
    spec = verify_spec(state)
    try:
        recipes = {
            "original": services.toolchain.recipe("serial"),
            "candidate": services.toolchain.recipe(state["target_model"]),
        }
    except ToolchainMissing as missing:
        return Command(
            goto="report",
            update={
                "status": "failed",
                "status_reason": str(missing),
                "steps": [timer.record(f"cannot build: {missing}")],
            },
        )
    if state.get("workspace"):
        services.sandbox.discard_workspace(Path(state["workspace"]))
    workspace = prepare_workspace(services.sandbox, spec)
    limits = services.limits
    builds = {
        v: build_variant(services.sandbox, workspace, spec, v, recipes[v], limits)
        for v in ("original", "candidate")
    }
    timer.build_seconds = sum(b.seconds for b in builds.values())
    build = {v: b.to_dict() for v, b in builds.items()}
    build["candidate"]["recipe"] = recipes["candidate"].to_dict()
    base = {"build": build, "workspace": str(workspace)}
    if not builds["original"].ok:
        return Command(
            goto="report",
            update={
                **base,
                "status": "failed",
                "status_reason": "the original code does not build with "
                f"{' '.join(builds['original'].command)}",
                "steps": [timer.record("the original does not build")],
            },
        )
    if not builds["candidate"].ok:
        errors = first_errors(builds["candidate"]) or []
        feedback = "\n".join(e.render() for e in errors) or builds["candidate"].log[-2000:]
        return _retry_or_stop(
            state,
            services,
            timer,
            base,
            "the candidate does not compile",
            "compiler errors:\n" + feedback,
        )
    settings = services.settings.agent
    if state["target_model"] in ("openmp", "mpi+openmp"):
        findings = [
            message
            for kind, message in openmp_race_findings(state["candidate"])
            if kind == "race" or not settings.allow_unproven
        ]
        if findings:
            base["test"] = {
                "status": "failed",
                "method": "static race check of the OpenMP loops",
                "cases": [{"size": 0, "passed": False, "detail": f} for f in findings],
                "message": "",
                "run_seconds": 0.0,
            }
            return _retry_or_stop(
                state,
                services,
                timer,
                base,
                f"race check: {findings[0]}",
                "the OpenMP code is not safe:\n" + "\n".join(findings),
            )
    test = run_differential_test(services, workspace, spec, recipes, limits)
    timer.run_seconds = test.run_seconds
    base["test"] = test.to_dict()
    if test.status == "failed":
        bad = next(c for c in test.cases if not c.passed)
        return _retry_or_stop(
            state,
            services,
            timer,
            base,
            f"test failed: {bad.detail}",
            f"the rewritten code gives different results: size {bad.size}: {bad.detail}",
        )
    command = services.settings.agent.test_command
    if command:
        user = _user_tests(state, services, workspace, command, limits)
        timer.run_seconds += user.run_seconds
        base["user_test"] = user.to_dict()
        if user.status == "failed":
            return _retry_or_stop(
                state,
                services,
                timer,
                base,
                "your test command failed",
                f"the project's tests fail with the change:\n{user.cases[0].detail[-1500:]}",
            )
        if test.status == "not_established":
            return Command(
                goto="report",
                update={
                    **base,
                    "status": "verified",
                    "status_reason": f"your test command passed ({command}); no harness, so the "
                    "speedup was not measured",
                    "steps": [timer.record(f"built; {user.method}: passed")],
                },
            )
    if test.status == "not_established":
        return Command(
            goto="report",
            update={
                **base,
                "status": "unverified",
                "status_reason": test.message,
                "steps": [timer.record(f"built; {test.message}")],
            },
        )
    return Command(
        goto="optimizer",
        update={
            **base,
            "steps": [
                timer.record(
                    f"built both; {test.method}: passed", cases=[c.size for c in test.cases]
                )
            ],
        },
    )


def _user_tests(state, services, workspace, command, limits):
    project = Path(services.settings.agent.project_dir or Path(state["file"]).resolve().parent)
    return run_user_tests(
        services.sandbox,
        workspace,
        project,
        Path(state["file"]),
        state["candidate"],
        command,
        limits,
    )


def _retry_or_stop(state, services, timer, base, summary, feedback) -> Command:
    if state.get("attempts", 0) <= services.settings.agent.max_fix_attempts:
        return Command(
            goto="coder",
            update={
                **base,
                "feedback": feedback,
                "steps": [timer.record(summary + "; back to the coder")],
            },
        )
    return Command(
        goto="report",
        update={
            **base,
            "status": "failed",
            "status_reason": f"{summary} after {state.get('attempts', 0)} attempts",
            "steps": [timer.record(summary + "; no attempts left")],
        },
    )


def run_differential_test(services: Services, workspace: Path, spec, recipes, limits):
    """The differential test (with race-check reruns) the agent's settings ask for."""
    settings = services.settings.agent
    return differential_test(
        services.sandbox,
        workspace,
        spec,
        recipes,
        settings.test_sizes,
        max(settings.threads),
        settings.rel_tolerance,
        settings.abs_tolerance,
        limits,
        tuple(settings.race_check_counts),
        settings.race_check_repeats,
    )
