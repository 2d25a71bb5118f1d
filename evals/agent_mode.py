"""Samples made by the full agent graph (``ellora.agents.runner.run_task``) on translation
tasks: the source and its harness are written to files as a user would have them, the state
is what ``ellora-agent`` builds (task, target, file, the function body's lines, original,
harness), and the candidate is the graph's final one. A killed agent task resumes from its
checkpoint when the run restarts.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

from ellora.evals.generation import ResultSink, SampleRequest, _result
from ellora.evals.programming import source_language
from ellora.evals.prompts import source_as_compiled

TASK_TEXT = {"openmp": "parallelize this loop with OpenMP", "kokkos": "port this loop to Kokkos",
             "mpi": "parallelize this loop with MPI"}
# The sample is what the user's file holds after ``ellora-agent --apply``: only a verified
# port is written; for every other verdict (refused, not faster, unverified, failed) the agent
# offers no change and the user keeps the original, so the original is submitted. A run that
# crashed submits nothing.
OFFERED = ("verified",)
KEEPS_ORIGINAL = ("refused", "not_faster", "unverified", "failed")


def submitted_code(status: str | None, candidate: str | None, original: str | None
                   ) -> str | None:
    """The code a sample submits for the agent's final verdict (see OFFERED)."""
    if status in OFFERED:
        return candidate
    return original if status in KEEPS_ORIGINAL else None


def body_lines(source: str, function: str) -> tuple[int, int]:
    """1-based first and last line inside ``function``'s braces."""
    import re

    from ellora.tools.loops.cpp import parse, text, walk

    for node in walk(parse(source).root_node):
        declarator = node.child_by_field_name("declarator") if node.type == \
            "function_definition" else None
        if declarator is not None and re.search(rf"\b{re.escape(function)}\s*\(", text(declarator)):
            body = node.child_by_field_name("body")
            return body.start_point[0] + 2, max(body.start_point[0] + 2, body.end_point[0])
    raise ValueError(f"function {function!r} not found in the source")


def fortran_body_lines(source: str, procedure: str) -> tuple[int, int]:
    """1-based first and last line of the statements of a Fortran procedure."""
    from ellora.tools.loops.fortran import FortranSource

    lines = FortranSource(source).procedure_lines(procedure)
    if lines is None:
        raise ValueError(f"procedure {procedure!r} not found in the Fortran source")
    return lines


def _task_text(problem, task) -> str:
    """What the user asks: the target, and where the results must be when the suite's own
    prompt says so (ParEval's MPI prompts: "the result is returned on rank 0")."""
    from ellora.agents.intent import result_on_root

    text = TASK_TEXT[task.target]
    prompt = (problem.extra.get("translations", {}).get(f"{task.source}->{task.target}", {})
              .get("prompt", "")) if isinstance(problem.extra, dict) else ""
    if task.target == "mpi" and result_on_root(prompt):
        text += "; the result is needed on rank 0 only"
    return text


class AgentGenerator:
    """Runs the agent once per sample; sample i uses the model with seed + i."""

    def __init__(self, settings, sandbox, workdir: Path, temperature: float, seed: int,
                 model_factory=None):
        self.settings = settings
        self.sandbox = sandbox
        self.workdir = Path(workdir)
        self.temperature = temperature
        self.seed = seed
        self.model_factory = model_factory
        self._toolchain = None

    def generate(self, requests: list[SampleRequest], on_result: ResultSink) -> None:
        for request in requests:
            on_result(self.run_one(request))

    def run_one(self, request: SampleRequest) -> dict:
        task = request.task
        if task.kind != "translation" or task.target not in TASK_TEXT or task.source == "cuda":
            return _result(request, None, error=f"the agent does not do {task.id}",
                           input_tokens=0, output_tokens=0, generation_s=0.0)
        started = time.perf_counter()
        try:
            report, candidate, original = self._run_agent(request)
        except Exception as error:  # noqa: BLE001 - one bad sample never stops the batch
            return _result(request, None, error=f"agent error: {type(error).__name__}: {error}",
                           input_tokens=0, output_tokens=0,
                           generation_s=round(time.perf_counter() - started, 3))
        model = report.get("model") or {}
        status = report.get("status")
        submitted = submitted_code(status, candidate, original)
        return _result(
            request, submitted,
            input_tokens=int(model.get("input_tokens", 0)),
            output_tokens=int(model.get("output_tokens", 0)),
            generation_s=round(time.perf_counter() - started, 3),
            agent={"status": report.get("status"), "status_reason": report.get("status_reason"),
                   "change_origin": report.get("change_origin"),
                   "attempts": report.get("attempts"), "speedups": report.get("speedups"),
                   "model_s": model.get("seconds"), "time": report.get("time")})

    def _services(self, request: SampleRequest):
        from ellora.agents.services import Services
        from ellora.models import create_chat_model
        from ellora.tools.toolchain import detect_toolchain

        problem = request.problem
        evals = self.settings.evals
        agent = self.settings.agent.model_copy(update={
            "threads": list(evals.threads), "timing_repeats": evals.timing_repeats,
            "test_sizes": list(problem.check_sizes), "timing_size": problem.timing_size,
            "rel_tolerance": max(problem.rel_tolerance, 1e-12),
            "abs_tolerance": problem.abs_tolerance})
        model_settings = self.settings.model.model_copy(update={
            "temperature": self.temperature, "seed": self.seed + request.index})
        settings = self.settings.model_copy(update={"agent": agent, "model": model_settings})
        if self._toolchain is None:
            self._toolchain = detect_toolchain(self.sandbox, settings=settings.toolchain)
        factory = self.model_factory or (lambda: create_chat_model(model_settings))
        toolchain = self._toolchain
        return Services(settings=settings, sandbox=self.sandbox, model_factory=factory,
                        toolchain_factory=lambda: toolchain)

    def _state(self, request: SampleRequest, task_id: str) -> dict:
        problem, task = request.problem, request.task
        folder = self.workdir / "agent-files" / task_id
        folder.mkdir(parents=True, exist_ok=True)
        source = source_as_compiled(problem, task)
        fortran = source_language(task.source) == "fortran"
        suffix = ".f90" if fortran else ".cpp"
        path = folder / f"{problem.function}{suffix}"
        path.write_text(source)
        harness = None
        if problem.driver == "harness":
            harness = folder / f"{problem.function}.harness{suffix}"
            shutil.copy(problem.harness_for(task.source), harness)
        if fortran:
            first, last = fortran_body_lines(source, problem.function)
        else:
            first, last = problem.lines or body_lines(source, problem.function)
        return {"task_id": task_id, "task": _task_text(problem, task),
                "target_model": task.target,
                "file": str(path), "first_line": first, "last_line": last, "original": source,
                "harness": str(harness) if harness else None, "status": "running", "steps": []}

    def _run_agent(self, request: SampleRequest) -> tuple[dict, str | None]:
        from ellora.agents.runner import resume_task, run_task, saved_state

        services = self._services(request)
        checkpoints = self.workdir / "agent-checkpoints.sqlite"
        task_id = hashlib.sha256(request.key.encode()).hexdigest()[:12]
        previous = saved_state(task_id, services, checkpoints)
        if previous:
            report = resume_task(task_id, services, checkpoints)
        else:
            report = run_task(self._state(request, task_id), services, checkpoints)
        final = saved_state(task_id, services, checkpoints) or {}
        return report, final.get("candidate"), final.get("original")
