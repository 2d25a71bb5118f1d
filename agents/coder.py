"""Coder node: produce a candidate, by verified transformation or by the model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from ellora.agents import prompts
from ellora.agents.services import Services
from ellora.agents.state import StepTimer, TaskState
from ellora.tools.edits import EditFailed, apply_search_replace, parse_search_replace
from ellora.tools.loops.text import ensure_include
from langgraph.types import Command

_CODE_BLOCK = re.compile(r"```[a-zA-Z+]*\n(.*?)(?:```|\Z)", re.DOTALL)


def coder(state: TaskState, services: Services) -> Command[Literal["tester", "report"]]:
    timer = StepTimer("coder")
    attempt = state.get("attempts", 0) + 1
    use_transformation = state["plan"]["strategy"] == "transformation" and attempt == 1
    if use_transformation:
        (candidate, explanation), origin = _transform(state), "transformation"
    else:
        origin = "model"
        explanation = f"written by the model ({services.settings.model.provider})"
        try:
            candidate, feedback = _ask_model(state, services, timer), ""
        except UnusableReply as unusable:
            candidate, feedback = None, str(unusable)
    update = {"attempts": attempt, "candidate_origin": origin}
    if candidate is None:
        feedback = feedback or "the reply had no ```cpp code block with the rewritten lines"
        record = timer.record(f"attempt {attempt}: no usable code in the reply: {feedback}")
        if attempt <= services.settings.agent.max_fix_attempts:
            return Command(goto="coder", update={**update, "feedback": feedback, "steps": [record]})
        return Command(
            goto="report",
            update={
                **update,
                "status": "failed",
                "steps": [record],
                "status_reason": "the model produced no code",
            },
        )
    problem = candidate_problem(state["original"], candidate, state["target_model"])
    if problem:
        record = timer.record(f"attempt {attempt}: rejected: {problem}")
        if attempt <= services.settings.agent.max_fix_attempts:
            return Command(goto="coder", update={**update, "feedback": problem, "steps": [record]})
        return Command(
            goto="report",
            update={**update, "status": "failed", "steps": [record], "status_reason": problem},
        )
    summary = f"attempt {attempt}: candidate from the {origin}"
    if timer.notes:
        summary += f" ({timer.notes[-1]})"
    return Command(
        goto="tester",
        update={
            **update,
            "candidate": candidate,
            "explanation": explanation,
            "steps": [timer.record(summary, explanation=explanation)],
        },
    )


def _transform(state: TaskState) -> tuple[str, str]:
    """The planner's rewrite of the region (computed once, there)."""
    plan = state["plan"]
    return plan["candidate"], plan["explanation"]


CONTEXT_LEVELS = ("full", "no retrieved examples", "selected lines only")


def _examples(state: TaskState, limit: int = 1500) -> str:
    """Retrieved E4S snippets as prompt text, each with where it came from."""
    parts = []
    for source in state.get("sources") or []:
        if source.get("text"):
            where = f"{source.get('repository', '')} {source.get('path')}:{source.get('lines')}"
            parts.append(f"// from {where}\n{source['text'][:limit]}")
    if not parts:
        return ""
    return "Examples from E4S libraries:\n```cpp\n" + "\n\n".join(parts) + "\n```\n"


def build_messages(state: TaskState, context: str = "full") -> list:
    """The system and user messages the coder sends for this state; ``context`` trims the
    prompt to fit a small context window (retrieved examples go first, then the file)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    lines = state["original"].splitlines(keepends=True)
    first, last = state["first_line"], state["last_line"]
    target = state["target_model"]
    loop = (state.get("plan") or {}).get("loop") or {}
    analysis = ""
    if loop.get("facts"):
        analysis = "Dependence analysis: " + "; ".join(loop["facts"]) + "\n"
    user = prompts.TASK.format(
        task=state["task"],
        # the name, not the path: where the file lives says nothing about the loop, and a
        # path (a run folder, a home directory) would change the reply to the same code
        file_name=Path(state["file"]).name,
        first=first,
        last=last,
        region="".join(lines[first - 1 : last]).rstrip(),
        context="".join(lines).rstrip() if context != "selected lines only" else
        "(left out to fit the model's context window)",
        analysis=analysis + (_examples(state) if context == "full" else ""),
        rules=prompts.MODEL_RULES.get(target, ""),
    )
    if state.get("feedback"):
        user += prompts.FEEDBACK.format(feedback=state["feedback"])
    system = prompts.SYSTEM.format(model_name=prompts.MODEL_NAMES.get(target, target))
    return [SystemMessage(system), HumanMessage(user)]


def _invoke_fitting(state: TaskState, services: Services, timer: StepTimer):
    """Ask the model, trimming retrieved context first, then the file, when it overflows."""
    from ellora.models import ContextOverflow

    for level in CONTEXT_LEVELS:
        try:
            reply = services.model.invoke(build_messages(state, level))
        except ContextOverflow:
            timer.notes.append(f"the prompt did not fit the model's context ({level}); trimmed")
            continue
        if level != "full":
            timer.notes.append(f"prompt trimmed to fit the context window: {level}")
        return reply
    raise UnusableReply("even the selected lines alone do not fit the model's context window")


def _ask_model(state: TaskState, services: Services, timer: StepTimer) -> str | None:
    reply = _invoke_fitting(state, services, timer)
    timer.add_model_usage(reply)
    text = str(reply.content)
    edits = parse_search_replace(text)
    if edits:
        try:
            return apply_search_replace(state["original"], edits)[0]
        except EditFailed as failure:
            raise UnusableReply(f"a SEARCH/REPLACE edit did not apply: {failure}") from None
    code = extract_code(text)
    if code is None:
        return None
    lines = state["original"].splitlines(keepends=True)
    first, last = state["first_line"], state["last_line"]
    new_source = "".join(lines[: first - 1]) + code.rstrip("\n") + "\n" + "".join(lines[last:])
    if state["target_model"] == "kokkos" and "Kokkos::" in code:
        new_source = ensure_include(new_source, "Kokkos_Core.hpp")
    return new_source


class UnusableReply(Exception):
    """The model's reply cannot become a candidate; the message goes back to the model."""


MODEL_MARKERS = {"openmp": ("#pragma omp", "omp_", "!$omp", "!$OMP"), "kokkos": ("Kokkos::",),
                 "mpi": ("MPI_",)}


def candidate_problem(original: str, candidate: str, target: str) -> str:
    """Why a candidate is not worth building, or an empty string."""
    if candidate.strip() == original.strip():
        return "the reply leaves the code unchanged"
    markers = MODEL_MARKERS.get(target, ())
    if markers and not any(marker in candidate for marker in markers):
        return f"the rewritten code does not use {target} (expected one of: {', '.join(markers)})"
    return ""


def extract_code(reply: str) -> str | None:
    """The first fenced code block of a reply, or None when there is none."""
    match = _CODE_BLOCK.search(reply)
    if match is None or not match.group(1).strip():
        return None
    return match.group(1)
