"""The agent graph: planner -> coder -> tester (-> coder, bounded) -> optimizer -> profiler
-> report.

Built by a factory, never at import time, so callers choose the model, sandbox, toolchain
and checkpointer (tests hand it a scripted model and a real sandbox).
"""

from __future__ import annotations

import functools

from ellora.agents.coder import coder
from ellora.agents.optimizer import optimizer
from ellora.agents.planner import planner
from ellora.agents.profiler import profiler
from ellora.agents.report import report
from ellora.agents.services import Services
from ellora.agents.state import TaskState
from langgraph.graph import END, START, StateGraph


def build_graph(services: Services, checkpointer=None):
    """Compile the graph with its nodes bound to ``services``."""
    from ellora.agents.tester import tester

    graph = StateGraph(TaskState)
    for name, node in (
        ("planner", planner),
        ("coder", coder),
        ("tester", tester),
        ("optimizer", optimizer),
        ("profiler", profiler),
        ("report", report),
    ):
        bound = functools.partial(node, services=services)
        functools.update_wrapper(bound, node)
        graph.add_node(name, bound)
    graph.add_edge(START, "planner")
    graph.add_edge("report", END)
    return graph.compile(checkpointer=checkpointer)
