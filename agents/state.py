"""The typed state of one task, and the typed record of every agent step.

State values are plain JSON-compatible data so that the SQLite checkpoints can be read by
any tool and restored by any version; records are dataclasses converted at node boundaries.
"""

from __future__ import annotations

import operator
import time
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, TypedDict


@dataclass
class StepRecord:
    """One thing an agent did: which node, what it concluded, what it cost."""

    node: str
    summary: str
    seconds: float = 0.0
    model_seconds: float = 0.0
    build_seconds: float = 0.0
    run_seconds: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    finished_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict:
        return asdict(self)


class TaskState(TypedDict, total=False):
    """Everything the graph knows about one task."""

    task_id: str
    task: str
    target_model: str  # openmp | kokkos | mpi | serial
    file: str
    first_line: int
    last_line: int
    original: str
    harness: str | None
    plan: dict[str, Any]
    candidate: str | None
    candidate_origin: str  # transformation | model
    explanation: str
    attempts: int
    feedback: str
    build: dict[str, Any]
    test: dict[str, Any]
    user_test: dict[str, Any]
    workspace: str
    timings: dict[str, Any]
    optimizations: list[dict[str, Any]]
    speedups: dict[str, float]
    status: str  # running | verified | unverified | failed | refused
    status_reason: str
    sources: list[dict[str, Any]]
    steps: Annotated[list[dict[str, Any]], operator.add]
    report: dict[str, Any]


class StepTimer:
    """Measures a node's wall time and the model/build/run time it spent."""

    def __init__(self, node: str):
        self.node = node
        self.start = time.perf_counter()
        self.model_seconds = self.build_seconds = self.run_seconds = 0.0
        self.input_tokens = self.output_tokens = 0
        self.notes: list[str] = []

    def add_model_usage(self, message) -> None:
        usage = getattr(message, "usage_metadata", None) or {}
        meta = getattr(message, "response_metadata", None) or {}
        self.input_tokens += int(usage.get("input_tokens", 0))
        self.output_tokens += int(usage.get("output_tokens", 0))
        self.model_seconds += float(meta.get("latency_s", 0.0))

    def record(self, summary: str, **details: Any) -> dict:
        return StepRecord(
            node=self.node,
            summary=summary,
            seconds=time.perf_counter() - self.start,
            model_seconds=self.model_seconds,
            build_seconds=self.build_seconds,
            run_seconds=self.run_seconds,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            details=details,
        ).to_dict()
