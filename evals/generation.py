"""Producing samples: the model alone (batched requests), or the suite's own reference.

A generator takes the pending samples and calls ``on_result`` with one plain dict per sample
as soon as it has it (key, code, tokens, seconds, error), so a killed run keeps what it had.
Agent-mode generation lives in :mod:`ellora.evals.agent_mode`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ellora.evals.prompts import assemble_candidate, build_messages, source_as_compiled
from ellora.evals.suite import Problem, Task

ResultSink = Callable[[dict], None]


@dataclass
class SampleRequest:
    """One sample to produce: task ``task`` of ``problem``, sample number ``index``."""

    key: str
    problem: Problem
    task: Task
    index: int


def _result(request: SampleRequest, code: str | None, **extra) -> dict:
    return {"key": request.key, "task": request.task.id, "problem": request.problem.name,
            "index": request.index, "code": code, **extra}


class ReferenceGenerator:
    """Hands back the suite's serial reference (generation) or the source unchanged
    (translation, as its driver compiles it: the file the agent starts from): checks that
    every problem builds and validates, and gives the no-parallelism baseline (speedups
    near 1)."""

    name = "reference"

    def generate(self, requests: list[SampleRequest], on_result: ResultSink) -> None:
        for request in requests:
            task = request.task
            code = (request.problem.source("serial") if task.kind == "generation"
                    else source_as_compiled(request.problem, task))
            on_result(_result(request, code, input_tokens=0, output_tokens=0,
                              generation_s=0.0))


class ModelGenerator:
    """The model alone: one request per sample, sent in batches (``max_concurrency``) so a
    model server (vLLM, llama.cpp server) can batch them; sample i uses seed + i."""

    def __init__(self, model_factory: Callable[[], object], temperature: float, seed: int,
                 max_tokens: int, batch_size: int):
        self.model_factory = model_factory
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self.batch_size = batch_size

    def generate(self, requests: list[SampleRequest], on_result: ResultSink) -> None:
        if not requests:
            return
        model = self.model_factory()
        for index in sorted({r.index for r in requests}):
            group = [r for r in requests if r.index == index]
            for start in range(0, len(group), self.batch_size):
                self._batch(model, index, group[start:start + self.batch_size], on_result)

    def _batch(self, model, index: int, batch: list[SampleRequest], on_result) -> None:
        bound = model.bind(temperature=self.temperature, seed=self.seed + index,
                           max_tokens=self.max_tokens)
        started = time.perf_counter()
        replies = bound.batch_as_completed([build_messages(r.problem, r.task) for r in batch],
                                           config={"max_concurrency": self.batch_size},
                                           return_exceptions=True)
        for position, reply in replies:
            request = batch[position]
            wall = time.perf_counter() - started
            if isinstance(reply, Exception):
                on_result(_result(request, None, error=f"model error: {reply}"[:2000],
                                  input_tokens=0, output_tokens=0,
                                  generation_s=round(wall, 3)))
                continue
            text = str(reply.content)
            usage = getattr(reply, "usage_metadata", None) or {}
            latency = (getattr(reply, "response_metadata", None) or {}).get("latency_s")
            on_result(_result(
                request, assemble_candidate(request.problem, request.task, text), reply=text,
                input_tokens=int(usage.get("input_tokens", 0)),
                output_tokens=int(usage.get("output_tokens", 0)),
                generation_s=round(float(latency) if latency else wall, 3)))
