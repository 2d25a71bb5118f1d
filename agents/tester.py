"""Tester node: build original and candidate in the sandbox and test one against the other.

With no harness and no ``main()``, the tester synthesizes a harness from the function that
holds the selected lines (:mod:`ellora.tools.synthesis`), saves it next to the patches
(``<state_dir>/patches/<task>.harness.cpp``) and from then on the task uses it like a shipped
one: the same two binaries, sizes, seeds, tolerances and race reruns, and the profiler times
with it. When none can be synthesized, or the one made does not build or run with the
original, the change stays unverified and the reason says why.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

from ellora.agents.services import Services
from ellora.agents.state import StepTimer, TaskState
from ellora.tools.race_check import openmp_race_findings
from ellora.tools.toolchain import ToolchainMissing
from ellora.tools.verify import (
    TestOutcome,
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
    spec = verify_spec(state)
    made = StepTimer("tester")
    harness = _harness_for(state, services, spec)
    if harness.get("origin") == "synthesized":
        spec = replace(spec, harness=harness["path"])
    command = _test(state, services, spec, harness)
    if harness.get("new") or harness.get("origin") == "none" and not harness.get("unusable"):
        instance = (f" ({harness['function']}() is a template: tested as "
                    f"{harness['function']}{harness['instance']})" if harness.get("instance")
                    else "")
        what = (f"synthesized a harness for {harness['function']}() from the function: "
                f"{harness['path']}{instance}" if harness.get("new") else
                f"no harness could be synthesized: {harness['reason']}")
        steps = [made.record(what), *(command.update or {}).get("steps", [])]
        command = Command(goto=command.goto, update={**(command.update or {}), "steps": steps})
    return command


def _test(state: TaskState, services: Services, spec: VerifySpec, harness: dict) -> Command:
    """Build both variants and test them with ``harness`` (see :func:`tester`)."""
    timer = StepTimer("tester")
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
    limits = services.limits
    workspace, builds = _build_both(services, spec, recipes)
    if harness.get("origin") == "synthesized" and not builds["original"].ok:
        harness = _unusable(harness, "it does not compile with the original: "
                            + _first_error(builds["original"]))
        spec = replace(spec, harness=None)
        services.sandbox.discard_workspace(workspace)
        workspace, builds = _build_both(services, spec, recipes)
    timer.build_seconds = sum(b.seconds for b in builds.values())
    build = {v: b.to_dict() for v, b in builds.items()}
    build["candidate"]["recipe"] = recipes["candidate"].to_dict()
    base = {"build": build, "workspace": str(workspace)}
    if harness:
        base["harness"] = harness.get("path") if harness.get("origin") != "none" else None
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
                "harness": harness or None,
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
    test, harness = _judge_harness(test, harness, spec.source_name)
    timer.run_seconds = test.run_seconds
    base["test"] = {**test.to_dict(), "harness": harness or None}
    if harness.get("unusable"):
        base["harness"] = None
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


def _build_both(services: Services, spec: VerifySpec, recipes: dict):
    workspace = prepare_workspace(services.sandbox, spec)
    builds = {
        v: build_variant(services.sandbox, workspace, spec, v, recipes[v], services.limits)
        for v in ("original", "candidate")
    }
    return workspace, builds


def _harness_suffix(file: str) -> str:
    """The harness a source file's language takes: ``.harness.f90`` for Fortran."""
    from ellora.tools.fortran_build import is_fortran

    return ".harness.f90" if is_fortran(file) else ".harness.cpp"


def synthesized_harness_path(services: Services, task_id: str, file: str = "") -> Path:
    """Where a task's synthesized harness is kept: next to its patch."""
    return services.settings.state_dir / "patches" / f"{task_id}{_harness_suffix(file)}"


def harness_sizes(settings) -> list[int]:
    """Every size a harness runs at in a task: the test sizes, the timing size and the
    profiler's hotspot size."""
    return sorted({*settings.test_sizes, settings.timing_size,
                   max(1, min(100_000, settings.timing_size // 10))})


def _harness_for(state: TaskState, services: Services, spec: VerifySpec) -> dict:
    """What the task tests with: ``{"origin": "given" | "synthesized" | "none", ...}``
    (empty for a whole program). A harness synthesized in an earlier round is reused; a
    synthesis that failed is retried (it is cheap), one that did not build is not."""
    if spec.mode == "program":
        return {}
    saved = synthesized_harness_path(services, state["task_id"], state["file"])
    previous = (state.get("test") or {}).get("harness") or {}
    if spec.mode == "harness" and Path(spec.harness) != saved:
        return {"origin": "given", "path": spec.harness}
    if spec.mode == "harness" and saved.is_file():
        previous.pop("new", None)
        return {**previous, "origin": "synthesized", "path": str(saved)}
    if previous.get("unusable"):
        return previous
    from ellora.tools.loops.region import language_of
    from ellora.tools.synthesis import CannotSynthesize, synthesize_harness
    from ellora.tools.synthesis.fortran import synthesize_fortran_harness

    settings = services.settings.agent
    first, last = _tested_lines(state)
    try:
        if language_of(state["file"]) == "fortran":
            made = synthesize_fortran_harness(state["original"], first, last,
                                              Path(state["file"]).name)
        else:
            made = synthesize_harness(state["original"], first, last, Path(state["file"]).name,
                                      harness_sizes(settings))
    except CannotSynthesize as why:
        return {"origin": "none", "reason": str(why)}
    except Exception as error:  # noqa: BLE001 - code the analysis trips on stays unverified
        return {"origin": "none", "reason": "the harness synthesis stopped on this function "
                f"({type(error).__name__}: {error})"}
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(made.text)
    return {"origin": "synthesized", "path": str(saved), "function": made.function,
            "outputs": made.outputs, "notes": made.notes, "instance": made.instance,
            "new": True}


def _tested_lines(state: TaskState) -> tuple[int, int]:
    """The lines whose function the harness calls: those of the loops the plan parallelizes
    (a whole-file selection may hold other functions), else the selection."""
    loops = (state.get("plan") or {}).get("parallel_loops") or []
    if loops:
        return min(loops), max(loops)
    return state["first_line"], state["last_line"]


def _unusable(harness: dict, why: str) -> dict:
    return {"origin": "none", "unusable": True, "path": harness.get("path"),
            "reason": f"the harness synthesized for {harness.get('function', 'the function')}() "
            f"({harness.get('path')}) {why}"}


def _first_error(build) -> str:
    errors = first_errors(build)
    return errors[0].render() if errors else build.log.strip()[-300:]


def _harness_name(source_name: str) -> str:
    """The harness a user adds beside ``source_name``: ``saxpy.harness.f90`` for Fortran."""
    return f"{Path(source_name).stem or '<name>'}{_harness_suffix(source_name)}"


def _judge_harness(test: TestOutcome, harness: dict,
                   source_name: str = "") -> tuple[TestOutcome, dict]:
    """A synthesized harness whose original run fails proves nothing about the candidate;
    a missing one leaves the reason in the outcome."""
    if harness.get("origin") == "synthesized":
        crashed = next((c for c in test.cases if c.failed_variant == "original"), None)
        if crashed is not None:
            harness = _unusable(harness, f"made the original fail at size {crashed.size} "
                                f"({crashed.detail[:300]}): its inputs are outside what the "
                                "code accepts")
            return TestOutcome("not_established", test.method, test.cases,
                               message=f"{harness['reason']}; the results were not compared",
                               run_seconds=test.run_seconds), harness
    if test.status == "not_established" and harness.get("origin") == "none":
        test = replace(test, message="no harness and no main(), and none could be "
                       f"synthesized: {harness['reason']}. The candidate compiles, but its "
                       "results were not compared (add "
                       f"{_harness_name(source_name)})")
    return test, harness


def harness_summary(state: TaskState) -> dict | None:
    """The report's ``harness`` field: which harness tested the change (given or synthesized,
    with its path), or why there was none."""
    recorded = (state.get("test") or {}).get("harness")
    if recorded:
        return {k: recorded[k] for k in ("origin", "path", "function", "outputs", "reason")
                if recorded.get(k) is not None}
    if state.get("harness"):
        return {"origin": "given", "path": state["harness"]}
    return None


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
        settings.test_draws,
    )
