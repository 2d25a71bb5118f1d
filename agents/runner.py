"""Run or resume one task through the graph with a SQLite checkpointer; used by every entry
point (CLI, LSP, evals)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ellora.agents.services import Services
from ellora.agents.state import TaskState


def infer_target_model(task: str) -> str:
    """The programming model a task asks for (see :func:`ellora.agents.intent.read_intent`,
    which also says why, and raises ``UnsupportedTarget`` for one Ellora cannot write)."""
    from ellora.agents.intent import read_intent

    return read_intent(task).target


def new_task_id() -> str:
    return uuid.uuid4().hex[:12]


@contextmanager
def checkpointer(path: Path) -> Iterator[object]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False)
    try:
        yield SqliteSaver(connection)
    finally:
        connection.close()


def _drive(graph, inputs, config, on_step) -> dict:
    for update in graph.stream(inputs, config, stream_mode="updates"):
        for change in update.values():
            for step in (change or {}).get("steps", []) if isinstance(change, dict) else []:
                if on_step:
                    on_step(step)
    final = graph.get_state(config).values
    return final.get("report") or {}


def run_task(
    state: TaskState,
    services: Services,
    checkpoint_path: Path,
    on_step: Callable[[dict], None] | None = None,
) -> dict:
    """Run a new task to the end; returns the report."""
    from ellora.agents.graph import build_graph

    with checkpointer(checkpoint_path) as saver:
        graph = build_graph(services, saver)
        config = {"configurable": {"thread_id": state["task_id"]}, "recursion_limit": 60}
        return _drive(graph, state, config, on_step)


def saved_state(task_id: str, services: Services, checkpoint_path: Path) -> TaskState | None:
    from ellora.agents.graph import build_graph

    if not checkpoint_path.exists():
        return None
    with checkpointer(checkpoint_path) as saver:
        graph = build_graph(services, saver)
        snapshot = graph.get_state({"configurable": {"thread_id": task_id}})
        return snapshot.values or None


def resume_task(
    task_id: str,
    services: Services,
    checkpoint_path: Path,
    on_step: Callable[[dict], None] | None = None,
) -> dict:
    """Continue a stopped task from its last checkpoint; a finished task returns its report."""
    from ellora.agents.graph import build_graph

    with checkpointer(checkpoint_path) as saver:
        graph = build_graph(services, saver)
        config = {"configurable": {"thread_id": task_id}, "recursion_limit": 60}
        snapshot = graph.get_state(config)
        if not snapshot.next:
            return snapshot.values.get("report") or {}
        return _drive(graph, None, config, on_step)
