"""The agent graph: planner -> coder -> tester (-> coder, bounded) -> optimizer -> profiler
-> report.

The fixed edges are declared here; the three decisions (the planner may refuse, the coder
may retry or give up, the tester may send diagnostics back) are routed by the nodes' typed
``Command`` returns, whose ``Literal`` types list every destination. Built by a factory,
never at import time, so callers choose the model, sandbox, toolchain and checkpointer
(tests hand it a scripted model and a real sandbox).
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

# Where each deciding node may route (its Command's goto): declared here with the fixed edges,
# so the whole graph reads in one place and draws completely.
ROUTES = {
    "planner": ("coder", "report"),  # refuse -> report
    "coder": ("tester", "coder", "report"),  # unusable reply -> coder (bounded) or give up
    "tester": ("optimizer", "coder", "report"),  # diagnostics -> coder (bounded)
}
FIXED_EDGES = (("optimizer", "profiler"), ("profiler", "report"))


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
        graph.add_node(name, bound, destinations=ROUTES.get(name))
    graph.add_edge(START, "planner")
    for source, target in FIXED_EDGES:
        graph.add_edge(source, target)
    graph.add_edge("report", END)
    return graph.compile(checkpointer=checkpointer)
