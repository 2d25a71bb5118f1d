"""Run the verified-transformation engine on a kernel and keep only what it proved.

For each target, :func:`port_kernel` asks ``plan_region`` for the kernel's plan. A plan that
transforms a loop gives a port; the port is written in its *presented* form (for OpenMP the
``ELLORA_MIN_PARALLEL_TRIP`` size threshold, in an ``if()`` clause or as the branch that
runs the original loop for small trip counts, is dropped: a tuning knob that needs a macro
defined outside the function, so the function stands alone and its parallel path runs at
every size) and then built and differentially tested against the kernel the
way the agent's tester does: a harness synthesized from the kernel (:mod:`ellora.tools.
synthesis`), original and port built in the sandbox, outputs compared at several sizes with
race-check reruns, plus the static race check for OpenMP. Only a port that passes is kept;
one that cannot be verified is dropped with the reason. A plan that transforms nothing is
kept as a refusal with the engine's reasons.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

TARGETS = ("openmp", "kokkos", "mpi")
MIN_TRIP = "ELLORA_MIN_PARALLEL_TRIP"
# Agent settings for verification: the tester's sizes, a moderate largest size (the race
# check reruns it), the default race-check thread counts.
VERIFY_SETTINGS = {"agent": {"test_sizes": [0, 1, 7, 1000, 20011], "timing_size": 200_000,
                             "min_speedup": 0.0}}


@dataclass
class PortResult:
    """What the engine did with one kernel for one target."""

    target: str
    outcome: str  # "port" (verified), "refusal", or "dropped"
    reason: str = ""  # why dropped, or the first refusal reason
    port: str = ""  # the verified port (presented form)
    engine_source: str = ""  # the engine's own rewrite
    patterns: list[str] = field(default_factory=list)
    refusals: list[dict] = field(default_factory=list)  # {line, pattern, why}
    facts: list[str] = field(default_factory=list)
    loop_facts: list[str] = field(default_factory=list)  # the first loop's (the planner's)
    explanation: str = ""
    left_serial: list[str] = field(default_factory=list)
    test: str = ""  # the differential test's method
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def present(source: str, target: str) -> str:
    """The engine's rewrite with the minimum-trip threshold taken out of OpenMP ``if()``
    clauses, and its macro block removed once nothing uses it. Run-time alias checks stay:
    they decide correctness. Kokkos ports keep the threshold: its ``if`` also keeps a
    ``RangePolicy`` whose end is below its start (``0 .. n - 1`` at ``n = 0``) from
    running, which Kokkos does not accept."""
    from ellora.tools.loops.emit.openmp import MIN_TRIP_HELPER

    if MIN_TRIP not in source or target != "openmp":
        return source
    source = fold_small_trips(source)
    source = "\n".join(without_min_trip(line) if line.lstrip().startswith("#pragma omp")
                       else line for line in source.split("\n"))
    if MIN_TRIP not in source.replace(MIN_TRIP_HELPER, ""):
        source = source.replace("\n" + MIN_TRIP_HELPER, "").replace(MIN_TRIP_HELPER, "")
    return source


def _split_top(expression: str, separator: str = "&&") -> list[str]:
    parts, depth, current, index = [], 0, "", 0
    while index < len(expression):
        char = expression[index]
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and expression.startswith(separator, index):
            parts.append(current.strip())
            current, index = "", index + len(separator)
            continue
        current += char
        index += 1
    return [*parts, current.strip()]


def _closing(textual: str, open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(textual)):
        depth += textual[index] == "("
        depth -= textual[index] == ")"
        if depth == 0:
            return index
    return -1


def fold_small_trips(source: str) -> str:
    """``source`` with each small-trip branch of the OpenMP emitter
    (``if (N >= ELLORA_MIN_PARALLEL_TRIP) { parallel } else { original }``, see
    :func:`ellora.tools.loops.emit.openmp.small_trips_serial`) replaced by its parallel
    side."""
    from ellora.tools.loops.emit.openmp import SMALL_TRIPS_NOTE

    lines, out, index = source.split("\n"), [], 0
    while index < len(lines):
        line = lines[index]
        indent = line[: len(line) - len(line.lstrip())]
        opens = line.lstrip().startswith("if (") and line.endswith(") {") and MIN_TRIP in line
        marker = f"{indent}}} else {{  {SMALL_TRIPS_NOTE}"
        if opens and marker in lines[index + 1:]:
            middle = lines.index(marker, index + 1)
            end = next((k for k in range(middle + 1, len(lines)) if lines[k] == indent + "}"),
                       None)
            if end is not None:
                out += [indent + body[len(indent) + 2:] if body.startswith(indent + "  ")
                        else body for body in lines[index + 1:middle]]
                index = end + 1
                continue
        out.append(line)
        index += 1
    return "\n".join(out)


def without_min_trip(line: str) -> str:
    """``line`` with the size condition taken out of its ``if(...)`` clause (the clause
    goes when nothing else is left in it)."""
    match = re.search(r"\bif\(", line)
    if MIN_TRIP not in line or not match:
        return line
    close = _closing(line, match.end() - 1)
    kept = [p for p in _split_top(line[match.end():close]) if MIN_TRIP not in p]
    clause = f"if({' && '.join(kept)})" if kept else ""
    line = line[:match.start()] + clause + line[close + 1:]
    return line if clause else re.sub(r"\s+$", "", re.sub(r"(\S)  +", r"\1 ", line))


class Verifier:
    """Builds and differentially tests ports in the agent's sandbox with its toolchain."""

    def __init__(self, work: Path, settings_overrides: dict | None = None):
        from ellora.agents.services import services_from_settings
        from ellora.agents.settings import load_settings

        def no_model():
            raise RuntimeError("the engine data set never asks a model")

        overrides = settings_overrides if settings_overrides is not None else VERIFY_SETTINGS
        self.services = services_from_settings(load_settings(overrides), model_factory=no_model)
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)

    def harness(self, source: str, name: str) -> str:
        """A harness synthesized from ``source``; CannotSynthesize with the reason."""
        from ellora.agents.tester import harness_sizes
        from ellora.tools.synthesis import synthesize_harness

        sizes = harness_sizes(self.services.settings.agent)
        made = synthesize_harness(source, 1, source.count("\n") + 1, f"{name}.cpp", sizes)
        return made.text

    def check(self, original: str, port: str, target: str, harness: str) -> tuple[bool, str,
                                                                                  str]:
        """(passed, reason when not, the test's method)."""
        from ellora.agents.tester import run_differential_test
        from ellora.tools.race_check import openmp_race_findings
        from ellora.tools.toolchain import ToolchainMissing
        from ellora.tools.verify import VerifySpec, build_variant, first_errors, prepare_workspace

        if target == "openmp":
            races = [m for kind, m in openmp_race_findings(port) if kind == "race"]
            if races:
                return False, f"race check: {races[0]}", "static race check"
        folder = self.work / "harness"
        folder.mkdir(exist_ok=True)
        (folder / "kernel.harness.cpp").write_text(harness)
        spec = VerifySpec("kernel.cpp", original, port, str(folder),
                          str(folder / "kernel.harness.cpp"))
        services = self.services
        try:
            recipes = {"original": services.toolchain.recipe("serial"),
                       "candidate": services.toolchain.recipe(target)}
        except ToolchainMissing as missing:
            return False, f"toolchain: {missing}", ""
        workspace = prepare_workspace(services.sandbox, spec)
        try:
            for variant in ("original", "candidate"):
                build = build_variant(services.sandbox, workspace, spec, variant,
                                      recipes[variant], services.limits)
                if not build.ok:
                    errors = first_errors(build)
                    first = errors[0].render() if errors else build.log.strip()[-200:]
                    return False, f"{variant} does not build: {first[:200]}", ""
            test = run_differential_test(services, workspace, spec, recipes, services.limits)
        finally:
            services.sandbox.discard_workspace(workspace)
        if test.status != "passed":
            bad = next((c for c in test.cases if not c.passed), None)
            detail = bad.detail[:200] if bad else test.message[:200]
            return False, f"test {test.status}: {detail}", test.method
        return True, "", test.method


def port_kernel(source: str, name: str, target: str, verifier: Verifier | None,
                harness: str | None) -> PortResult:
    """The engine's plan for ``source`` and ``target``: a verified port, a refusal, or a
    drop with the reason (``verifier`` None plans only: ports are then dropped)."""
    from ellora.tools.loops.region import plan_region

    started = time.perf_counter()
    plan = plan_region(source, 1, source.count("\n") + 1, target)
    refusals = [{"line": d.line, "pattern": d.pattern, "why": d.why} for d in plan.serial]
    result = PortResult(target, "refusal", refusals=refusals,
                        reason=refusals[0]["why"] if refusals else "no loop")
    chosen = plan.transformed or plan.serial
    result.loop_facts = list(chosen[0].facts) if chosen else []
    if plan.source is None:
        if not refusals:
            result.outcome = "dropped"
        result.seconds = time.perf_counter() - started
        return result
    result.engine_source = plan.source
    result.patterns = [d.pattern for d in plan.transformed]
    result.facts = [f for d in plan.transformed for f in d.facts]
    result.explanation = plan.explanation
    result.left_serial = plan.left_serial()
    port = present(plan.source, target)
    if verifier is None or harness is None:
        result.outcome, result.reason = "dropped", "not verified (no harness)"
    else:
        passed, why, method = verifier.check(source, port, target, harness)
        result.outcome = "port" if passed else "dropped"
        result.reason, result.test = why, method
        result.port = port if passed else ""
    result.seconds = time.perf_counter() - started
    return result
