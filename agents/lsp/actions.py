"""The agent actions offered on a selection or a loop, and the arguments they travel with.

Listing is pure data (no model, no build): each action carries a ``data`` object and the
same object as the argument of the ``ellora.runAction`` command, so a client can run it
through ``codeAction/resolve`` or ``workspace/executeCommand``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ellora.agents.lsp.documents import Region

RUN_COMMAND = "ellora.runAction"
ACTION_PREFIX = "refactor.rewrite.ellora"
EXPLAIN_KIND = "ellora.explain"


@dataclass(frozen=True)
class AgentAction:
    """One entry of the code-action menu: what it is called and what the agent is asked."""

    id: str
    title: str
    task: str
    kind: str


ACTIONS: tuple[AgentAction, ...] = (
    AgentAction("kokkos", "Port to Kokkos", "port this loop to Kokkos", f"{ACTION_PREFIX}.kokkos"),
    AgentAction(
        "openmp",
        "Parallelize with OpenMP",
        "parallelize this loop with OpenMP",
        f"{ACTION_PREFIX}.openmp",
    ),
    AgentAction(
        "mpi", "Parallelize with MPI", "parallelize this loop with MPI", f"{ACTION_PREFIX}.mpi"
    ),
    AgentAction("cuda", "Port to CUDA", "port this loop to CUDA", f"{ACTION_PREFIX}.cuda"),
    AgentAction("explain", "Explain this code", "explain this code", EXPLAIN_KIND),
    AgentAction(
        "optimize",
        "Optimize (profile-guided)",
        "optimize this code for speed, keeping its {model} programming model",
        f"{ACTION_PREFIX}.optimize",
    ),
)
ACTIONS_BY_ID = {action.id: action for action in ACTIONS}

_MODEL_MARKERS = (
    ("cuda", re.compile(r"__global__|<<<|\bcuda[A-Z]\w*\(")),
    ("kokkos", re.compile(r"\bKokkos::")),
    ("mpi", re.compile(r"\bMPI_[A-Z][a-z_]*\b|#\s*include\s*[<\"]mpi\.h")),
    ("openmp", re.compile(r"#\s*pragma\s+omp\b|!\$omp\b", re.IGNORECASE)),
)


def programming_model_of(text: str) -> str:
    """The programming model code already uses: cuda, kokkos, mpi, openmp, else serial."""
    for model, marker in _MODEL_MARKERS:
        if marker.search(text):
            return model
    return "serial"


def wanted(kind: str, only: list[str] | None) -> bool:
    """Whether ``kind`` passes the client's ``context.only`` filter (hierarchical kinds)."""
    if not only:
        return True
    return any(kind == prefix or kind.startswith(prefix + ".") for prefix in only)


def action_arguments(
    action: AgentAction, uri: str, version: int | None, region: Region
) -> dict[str, Any]:
    """The JSON object that identifies one run: action, document version and lines."""
    return {
        "action": action.id,
        "uri": uri,
        "version": version,
        "firstLine": region.first_line,
        "lastLine": region.last_line,
    }


def list_actions(
    uri: str, version: int | None, region: Region, only: list[str] | None = None
) -> list[Any]:
    """``CodeAction`` objects for ``region``, each runnable by resolve or by its command."""
    from lsprotocol import types

    found = []
    for action in ACTIONS:
        if not wanted(action.kind, only):
            continue
        arguments = action_arguments(action, uri, version, region)
        found.append(
            types.CodeAction(
                title=action.title,
                kind=action.kind,
                data=arguments,
                command=types.Command(
                    title=action.title, command=RUN_COMMAND, arguments=[arguments]
                ),
            )
        )
    return found


@dataclass(frozen=True)
class RunRequest:
    """A validated ``ellora.runAction`` argument."""

    action: AgentAction
    uri: str
    version: int | None
    first_line: int
    last_line: int
    task: str | None = None  # the request in the user's own words (a client's prompt box)


def parse_run_arguments(raw: Any) -> RunRequest:
    """Check the JSON an editor sent back; raises ``ValueError`` or ``TypeError`` with a
    one-line reason. An optional ``task`` replaces the action's own words (a programming
    model it names is the target)."""
    if not isinstance(raw, dict):
        raise TypeError("expected one object argument {action, uri, version, firstLine, lastLine}")
    action = ACTIONS_BY_ID.get(str(raw.get("action")))
    if action is None:
        raise ValueError(
            f"unknown action {raw.get('action')!r}: choose one of {', '.join(ACTIONS_BY_ID)}"
        )
    uri = raw.get("uri")
    first, last = raw.get("firstLine"), raw.get("lastLine")
    version = raw.get("version")
    if not isinstance(uri, str) or not uri:
        raise ValueError("missing 'uri' of the document to work on")
    if not (isinstance(first, int) and isinstance(last, int) and 1 <= first <= last):
        raise ValueError(f"bad line range {first!r}-{last!r}: need 1 <= firstLine <= lastLine")
    if version is not None and not isinstance(version, int):
        raise ValueError(f"bad document version {version!r}")
    task = raw.get("task")
    if task is not None and not (isinstance(task, str) and task.strip()):
        raise ValueError(f"bad task {task!r}: say what to do, e.g. 'port this loop to Kokkos'")
    return RunRequest(action, uri, version, first, last, task.strip() if task else None)
