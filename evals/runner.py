"""``ellora eval run``: generate samples, then build, validate and time them through Parsl,
storing one record per sample; restarting with the same arguments skips finished samples.

Generation that runs on this machine (the embedded model, the agent) is done before the
evaluation starts so that it does not disturb the timings; with a model server the two
overlap: a sample is evaluated as soon as it is generated.
"""

from __future__ import annotations

import fnmatch
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ellora.evals import execute, workers
from ellora.evals.generation import ModelGenerator, ReferenceGenerator, SampleRequest
from ellora.evals.programming import uses_model
from ellora.evals.progress import Progress
from ellora.evals.store import RunStore, run_name, sample_key
from ellora.evals.suite import TASK_KINDS, Problem, Task, suite_tasks

AGENT_TARGETS = ("openmp", "kokkos", "mpi")
LOCAL_PROVIDERS = ("embedded",)


@dataclass
class RunSpec:
    """The arguments of one run; the same arguments name the same run directory."""

    suite: str
    model: str
    agent: bool = False
    samples: int = 1
    temperature: float = 0.2
    models: list[str] | None = None
    kinds: list[str] = field(default_factory=lambda: list(TASK_KINDS))
    sources: list[str] | None = None
    problems: list[str] | None = None

    def arguments(self, suite_name: str) -> dict:
        return {**asdict(self), "suite_name": suite_name}


def select_tasks(spec: RunSpec, problems: list[Problem]) -> list[Task]:
    """The tasks a run covers (the agent only translates to OpenMP, Kokkos and MPI)."""
    if spec.problems:
        if unmatched := [pattern for pattern in spec.problems
                         if not any(fnmatch.fnmatch(p.name, pattern) for p in problems)]:
            raise ValueError(f"--problems {unmatched[0]!r} matches no problem of this suite: "
                             "give problem names or patterns such as 'reduce_*' "
                             "('ellora eval list SUITE' lists them)")
        problems = [p for p in problems if any(fnmatch.fnmatch(p.name, pattern)
                                               for pattern in spec.problems)]
    models = spec.models or sorted({m for p in problems for m in p.models})
    tasks = suite_tasks(problems, models, spec.kinds, spec.sources)
    if spec.agent:
        tasks = [t for t in tasks if t.kind == "translation" and t.target in AGENT_TARGETS
                 and t.source != "cuda"]
    return tasks


def make_generator(spec: RunSpec, settings, run_dir: Path, model_factory=None):
    """The sample producer a run asks for (model_factory: tests inject a scripted model)."""
    if spec.model == "reference":
        return ReferenceGenerator()
    if spec.agent:
        from ellora.agents.services import create_task_sandbox
        from ellora.evals.agent_mode import AgentGenerator

        return AgentGenerator(settings, create_task_sandbox(settings), run_dir,
                              spec.temperature, settings.evals.seed, model_factory)
    if model_factory is None:
        from ellora.models import create_chat_model

        def model_factory():
            return create_chat_model(settings.model)
    evals = settings.evals
    return ModelGenerator(model_factory, spec.temperature, evals.seed, evals.max_tokens,
                          evals.generation_batch)


def generation_is_local(spec: RunSpec, settings) -> bool:
    return spec.agent or (spec.model != "reference" and
                          settings.model.provider in LOCAL_PROVIDERS)


def run_eval(spec: RunSpec, settings, problems: list[Problem], suite_name: str,
             out_dir: Path, model_factory: Callable | None = None, quiet: bool = False,
             name: str | None = None) -> Path:
    """Run (or resume) an evaluation; returns the run directory."""
    from ellora.evals.parallel import parsl_pool

    arguments = spec.arguments(suite_name)
    run_dir = Path(out_dir) / (name or run_name(arguments))
    store = RunStore(run_dir)
    store.open(arguments)
    by_name = {p.name: p for p in problems}
    tasks = select_tasks(spec, problems)
    requests = [SampleRequest(sample_key(t.id, i), by_name[t.problem], t, i)
                for t in tasks for i in range(spec.samples)]
    done = {row["key"] for row in store.records()}
    pending = [r for r in requests if r.key not in done]
    progress = Progress(len(requests), len(requests) - len(pending), quiet=quiet)
    generator = make_generator(spec, settings, run_dir, model_factory)
    settings_json = settings.model_dump_json()
    clock = _PhaseClock()
    workers.resume_local_work()
    phases = {"samples": len(pending), "workers": settings.evals.parsl.workers}
    try:
        with parsl_pool(settings.evals.parsl, run_dir) as pool:
            clock.mark("start_s")
            batch = _Batch(pool, store, settings, settings_json, str(run_dir), progress, clock)
            try:
                _produce(batch, generator, pending, store.generations(),
                         generation_is_local(spec, settings), quiet)
                clock.mark("generate_s")  # remote generation overlaps the builds it submits
                batch.collect()
            except KeyboardInterrupt:
                batch.stop()
                raise
    except KeyboardInterrupt:
        clock.mark("shutdown_s")
        store.add_phases({**clock.phases, **phases, "interrupted": True})
        progress.close()
        raise
    clock.mark("shutdown_s")
    store.add_phases({**clock.phases, **phases})
    progress.close()
    return run_dir


def _produce(batch: _Batch, generator, pending: list[SampleRequest], generated: dict[str, dict],
             local: bool, quiet: bool) -> None:
    """Submit every pending sample: those generated before at once, the rest as they come
    (after all of them when generation shares this machine with the timings)."""
    to_generate = [r for r in pending if r.key not in generated]
    for request in pending:
        if request.key in generated:
            batch.evaluate(request, generated[request.key])
    by_key = {r.key: r for r in to_generate}
    if not local:
        generator.generate(to_generate,
                           lambda row: batch.evaluate(by_key[row["key"]], batch.keep(row)))
        return
    rows: list[tuple[SampleRequest, dict]] = []
    made = Progress(len(to_generate), quiet=quiet or not to_generate, label="generate")

    def hold(row: dict) -> None:
        rows.append((by_key[row["key"]], batch.keep(row)))
        made.update({**row, "status": "code" if row.get("code") else "no code"})

    generator.generate(to_generate, hold)
    made.close()
    for request, row in rows:
        batch.evaluate(request, row)


class _PhaseClock:
    """Wall seconds of each phase of one invocation, in order."""

    def __init__(self):
        self.phases: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round(self.phases.get(phase, 0.0) + now - self._last, 3)
        self._last = now


class _Batch:
    """Submits references and samples to Parsl and writes a record as each one finishes."""

    def __init__(self, pool, store: RunStore, settings, settings_json: str, run_dir: str,
                 progress: Progress, clock: _PhaseClock | None = None):
        self.clock = clock or _PhaseClock()
        self.pool, self.store, self.settings = pool, store, settings
        self.settings_json, self.run_dir, self.progress = settings_json, run_dir, progress
        self.references: dict[str, Future] = {}
        self.futures: list[Future] = []
        self.timings: list[tuple[dict, dict, dict]] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def stop(self) -> None:
        """Ctrl-C: record nothing more, kill the builds and timings under way, and let the
        queued tasks end at once; the records written so far stay (a rerun resumes)."""
        self.stopping.set()
        workers.stop_local_work()

    def keep(self, row: dict) -> dict:
        self.store.add_generation(row)
        return row

    def _reference(self, problem: Problem) -> Future:
        if problem.name not in self.references:
            builder = _reference_builder(problem)
            self.references[problem.name] = self.pool.submit(
                builder, self.settings_json, self.run_dir, problem.to_dict())
        return self.references[problem.name]

    def evaluate(self, request: SampleRequest, generation: dict) -> None:
        task, problem = request.task, request.problem
        job = {"key": request.key, "target": task.target, "problem": problem.to_dict(),
               "code": generation.get("code"), "source": task.source,
               "resources": self.settings.evals.resources(task.target),
               "check_resources": self.settings.evals.check_resources(task.target)}
        future = self.pool.submit(_sample_evaluator(problem, task.source), self.settings_json,
                                  self.run_dir,
                                  job, self._reference(problem))
        head = {**generation, "kind": task.kind, "target": task.target, "source": task.source,
                "problem_type": problem.type, "resources": job["resources"],
                "uses_model": uses_model(generation.get("code"), task.target)}
        self.futures.append(future)
        future.add_done_callback(lambda done, head=head, job=job: self._built(done, head, job))

    def _built(self, future: Future, head: dict, job: dict) -> None:
        if self.stopping.is_set():  # stopped midway: not a result
            return
        outcome = _outcome(future)
        if "pending" in outcome:  # validated: timed in the second pass
            with self._lock:
                self.timings.append((head, job, outcome))
            return
        self._record(head, outcome)

    def _record(self, head: dict, outcome: dict) -> None:
        if self.stopping.is_set():
            return
        record = {**head, **outcome}
        record["wall_s"] = round(float(head.get("generation_s") or 0.0)
                                 + float(outcome.get("eval_s") or 0.0), 3)
        self.store.add_record(record)
        self.progress.update(record)

    def collect(self) -> None:
        """Wait for every build, then time the validated samples one after another."""
        for future in as_completed(self.futures):
            future.exception()
        self.clock.mark("build_check_s")
        for head, job, outcome in self.timings:  # one at a time: nothing else runs meanwhile
            if self.stopping.is_set():
                break
            timer = _sample_timer(job["problem"]["driver"], job.get("source"))
            future = self.pool.submit(timer, self.settings_json, self.run_dir, job, outcome)
            self._record(head, _outcome(future))
        self.clock.mark("timing_s")


def _outcome(future: Future) -> dict:
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - a harness failure is recorded, never fatal
        return {"built": False, "valid": False, "status": "harness_error",
                "error": f"{type(error).__name__}: {error}"[:2000], "times": {},
                "speedups": {}, "eval_s": 0.0}


def _reference_builder(problem: Problem):
    if problem.driver == "pareval":
        from ellora.evals import pareval

        return pareval.build_reference
    return execute.build_reference


def _sample_timer(driver: str, source: str | None = None):
    if source == "fortran":
        from ellora.evals import fortran_execute

        return fortran_execute.time_sample
    if driver == "pareval":
        from ellora.evals import pareval

        return pareval.time_sample
    return execute.time_sample


def _sample_evaluator(problem: Problem, source: str | None = None):
    if source == "fortran":
        from ellora.evals import fortran_execute

        return fortran_execute.evaluate_sample
    if problem.driver == "pareval":
        from ellora.evals import pareval

        return pareval.evaluate_sample
    return execute.evaluate_sample


def log(message: str, quiet: bool = False) -> None:
    if not quiet:
        print(f"[eval] {message}", file=sys.stderr, flush=True)
