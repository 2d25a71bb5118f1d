"""The task worker: ``python -m ellora.agents.lsp.worker`` runs one job for the language server.

The server starts it in a new session (its own process group), writes one JSON job to its
stdin and reads JSON lines from its stdout: ``{"event": "step", "step": {...}}`` for every
agent step, then one of ``{"event": "result", "report": {...}, "candidate": "..."}``,
``{"event": "explanation", "text": "...", ...}`` or ``{"event": "error", "kind":
"user|model|internal", "message": "..."}``. Anything else that writes to stdout (a C library,
a stray print) is sent to stderr instead, so the event stream stays parseable.

On SIGTERM (a cancel, or the server dying) it kills every descendant (compilers and test
binaries live in sandbox sessions of their own; the worker is their subreaper) and exits 143.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import IO, Any

EXPLAIN_SYSTEM = (
    "You are an HPC performance engineer. Explain code precisely and briefly for "
    "a colleague: what it computes, its data dependences, whether and how it can "
    "be parallelized (OpenMP, MPI, Kokkos, CUDA), and performance hazards."
)
EXPLAIN_USER = (
    "Explain lines {first}-{last} of {file_name} ({language}):\n\n```{fence}\n{code}\n"
    "```\n\nAnswer in Markdown with short sections: What it does, Dependences, "
    "Parallelization, Performance notes."
)
MAX_EXPLAIN_LINES = 400


class Cancelled(SystemExit):
    """Raised in the main thread by SIGTERM once every descendant is dead."""


def _protocol_stream() -> IO[str]:
    """A private copy of stdout for events; fd 1 itself is pointed at stderr."""
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "w", buffering=1)


def _on_sigterm(signum: int, frame: Any) -> None:
    from ellora.agents.lsp.process_tree import kill_descendants

    kill_descendants(os.getpid())
    raise Cancelled(143)


def run_agent(job: dict, emit) -> None:
    """Run the agent graph on ``job["state"]``; emit every step, then the report."""
    from ellora.agents.cli.agent_command import _services  # exactly what ellora-agent uses
    from ellora.agents.runner import run_task, saved_state
    from ellora.agents.settings import load_settings
    from ellora.agents.user_files import save_patch

    settings = load_settings(job.get("overrides") or {})
    services = _services(settings)
    state = job["state"]
    checkpoints = settings.state_dir / "checkpoints.sqlite"
    report = run_task(
        state, services, checkpoints, on_step=lambda step: emit({"event": "step", "step": step})
    )
    final = saved_state(state["task_id"], services, checkpoints) or {}
    report["target_reason"] = job.get("target_reason")
    if report.get("diff"):
        report["patch"] = str(
            save_patch(report["diff"], settings.state_dir / "patches", state["task_id"])
        )
    emit({"event": "result", "report": report, "candidate": final.get("candidate")})


def run_explain(job: dict, emit) -> None:
    """Ask the configured model to explain the region; emit its Markdown answer."""
    from ellora.agents.cli.errors import UserError
    from ellora.agents.settings import load_settings
    from ellora.models import create_chat_model
    from langchain_core.messages import HumanMessage, SystemMessage

    settings = load_settings(job.get("overrides") or {})
    first, last = job["first_line"], job["last_line"]
    if last - first + 1 > MAX_EXPLAIN_LINES:
        raise UserError(
            f"lines {first}-{last} are too many to explain at once: select at most "
            f"{MAX_EXPLAIN_LINES} lines"
        )
    code = "\n".join(job["text"].splitlines()[first - 1 : last])
    fence = "fortran" if job["language"] == "fortran" else "cpp"
    prompt = EXPLAIN_USER.format(
        first=first,
        last=last,
        file_name=Path(job["file"]).name,
        language=job["language"],
        fence=fence,
        code=code,
    )
    model = create_chat_model(settings.model)
    reply = model.invoke([SystemMessage(EXPLAIN_SYSTEM), HumanMessage(prompt)])
    usage = getattr(reply, "usage_metadata", None) or {}
    emit(
        {
            "event": "explanation",
            "text": str(reply.content).strip(),
            "model": {
                "name": settings.model.model
                if settings.model.provider != "embedded"
                else "embedded",
                "input_tokens": usage.get("input_tokens", 0),
                "output_tokens": usage.get("output_tokens", 0),
            },
        }
    )


def _error_event(error: BaseException) -> dict:
    from ellora.agents.cli.errors import UserError
    from ellora.models import ModelUnavailable
    from ellora.tools.toolchain import ToolchainMissing

    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, ModelUnavailable):
        return {"event": "error", "kind": "model", "message": f"model unavailable: {message}"}
    if isinstance(error, UserError | ToolchainMissing):
        return {"event": "error", "kind": "user", "message": message}
    return {
        "event": "error",
        "kind": "internal",
        "message": f"internal error ({type(error).__name__}): {message}",
    }


def main() -> int:
    from ellora.agents.lsp.process_tree import become_subreaper, die_with_parent

    stream = _protocol_stream()

    def emit(event: dict) -> None:
        stream.write(json.dumps(event) + "\n")
        stream.flush()

    signal.signal(signal.SIGTERM, _on_sigterm)
    become_subreaper()
    parent = os.environ.get("ELLORA_LSP_SERVER_PID")
    if parent and parent.isdigit():
        die_with_parent(int(parent))
    try:
        job = json.loads(sys.stdin.read())
        (run_explain if job.get("kind") == "explain" else run_agent)(job, emit)
        return 0
    except Cancelled:
        return 143
    except Exception as error:  # noqa: BLE001 - every failure becomes one event for the server
        traceback.print_exc(file=sys.stderr)
        emit(_error_event(error))
        return 1


if __name__ == "__main__":
    sys.exit(main())
