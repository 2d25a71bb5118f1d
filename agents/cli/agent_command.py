"""``ellora-agent "port this loop to Kokkos" --file f.cpp --lines 10-20``: one task, streamed
progress, then the plan, diff, build/test result and speedups. Exit status 0 only when a
verified change was produced (and, with --apply, written)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ellora.agents.cli.errors import UserError, report_user_error

PROGRAM = "ellora-agent"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "task", nargs="?", help="what to do, e.g. 'parallelize this loop with OpenMP'"
    )
    parser.add_argument("--file", type=Path, help="the source file to work on")
    parser.add_argument("--lines", help="the line range to change, A-B (1-based, inclusive)")
    parser.add_argument(
        "--harness",
        type=Path,
        help="differential-test harness (default: <name>.harness.cpp next to the file)",
    )
    parser.add_argument(
        "--test-cmd",
        help="your own test command, run in a sandboxed copy of "
        "the project with the change applied (sh -c)",
    )
    parser.add_argument(
        "--project", type=Path, help="project root for --test-cmd (default: the file's directory)"
    )
    parser.add_argument("--model", help="model provider: embedded | openai-compatible")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. agent.threads=[1,2,4]",
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="write a verified change to the file (atomic; original kept; through a "
        "symbolic link to the file it names)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --apply: write the file even when it is read-only",
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--resume", metavar="ID", help="continue a stopped task")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def _settings(args):
    from ellora.agents.settings import load_settings, parse_overrides

    overrides = parse_overrides(args.set)
    if args.model:
        overrides.setdefault("model", {})["provider"] = args.model
    if getattr(args, "test_cmd", None):
        overrides.setdefault("agent", {})["test_command"] = args.test_cmd
    if getattr(args, "project", None):
        if not args.project.is_dir():
            raise UserError(f"project directory {args.project} not found: check --project")
        overrides.setdefault("agent", {})["project_dir"] = str(args.project.resolve())
    return load_settings(overrides)


def _services(settings):
    from ellora.agents.services import services_from_settings
    from ellora.knowledge_graph import open_retriever

    return services_from_settings(settings, retriever=open_retriever(settings))


def _new_state(args) -> dict:
    """Check the task, file, lines and target, all before any model or index is loaded."""
    from ellora.agents.intent import UnsupportedTarget, read_intent
    from ellora.agents.runner import new_task_id
    from ellora.agents.selection import require_code
    from ellora.agents.user_files import parse_line_range, read_source
    from ellora.tools.verify import find_harness

    if not args.task or not args.task.strip():
        raise UserError(
            "the task is empty: say what to do, e.g. 'parallelize this loop with OpenMP'"
        )
    try:
        intent = read_intent(args.task)
    except UnsupportedTarget as error:
        raise UserError(str(error)) from None
    if args.file is None:
        raise UserError("no --file given: name the source file to work on")
    source = read_source(args.file)
    first, last = parse_line_range(args.lines, source, args.file)
    require_code(source, first, last, args.file)
    harness = args.harness or find_harness(args.file)
    if args.harness is not None and not args.harness.is_file():
        raise UserError(f"harness {args.harness} not found: check --harness")
    return {
        "task_id": new_task_id(),
        "task": args.task.strip(),
        "target_model": intent.target,
        "file": str(args.file),
        "first_line": first,
        "last_line": last,
        "original": source,
        "harness": str(harness.resolve()) if harness else None,
        "status": "running",
        "steps": [],
    }


def _target_reason(task: str) -> str:
    from ellora.agents.intent import UnsupportedTarget, read_intent

    try:
        return read_intent(task).reason
    except UnsupportedTarget as error:  # a task saved before targets were checked
        return str(error)


def _apply(args, state: dict, report: dict, final: dict | None) -> dict:
    """Write a verified change (``--apply``); the JSON fields that say what happened."""
    from ellora.agents.user_files import apply_change, write_target

    if report.get("status") != "verified":
        return {"applied": False, "exit_code": 1,
                "not_applied_reason": f"the change is {report.get('status')} "
                                      f"({report.get('status_reason')})"}
    path, candidate = Path(state["file"]), (final or {}).get("candidate")
    if not candidate:
        return {"applied": False, "exit_code": 1,
                "not_applied_reason": f"no saved change for task {state['task_id']}"}
    try:
        backup = apply_change(path, state["original"], candidate, force=args.force)
    except UserError as error:
        return {"applied": False, "exit_code": error.exit_code, "not_applied_reason": str(error)}
    target = write_target(path)
    fields = {"applied": True, "applied_to": str(target), "original_kept_as": str(backup)}
    if target != path.absolute():
        fields["apply_note"] = f"{path} is a symbolic link: the change was written to {target}"
    return fields


def _apply_lines(report: dict) -> list[str]:
    """What --apply did, for the text report."""
    if report.get("applied"):
        applied = (f"Applied to {report['applied_to']}; original kept as "
                   f"{report['original_kept_as']}")
        return [*([report["apply_note"]] if report.get("apply_note") else []), applied]
    if report.get("status") == "verified" and report.get("patch"):
        return [f"Not applied: rerun with --apply, or: patch -p1 < {report['patch']}"]
    return []


def execute(args) -> int:
    from ellora.agents.cli.render import progress_line, render_report
    from ellora.agents.runner import resume_task, run_task, saved_state
    from ellora.agents.user_files import save_patch
    from ellora.models import ModelUnavailable

    settings = _settings(args)
    state = None if args.resume else _new_state(args)
    services = _services(settings)
    checkpoints = settings.state_dir / "checkpoints.sqlite"

    def on_step(step: dict) -> None:
        if not args.quiet:
            print(progress_line(step), file=sys.stderr, flush=True)

    if args.resume:
        state = saved_state(args.resume, services, checkpoints)
        if state is None:
            raise UserError(
                f"no task {args.resume!r} to resume: check the ID printed when it started"
            )
        task_id = args.resume
    else:
        task_id = state["task_id"]
    if not args.quiet:
        print(
            f"[ellora] task {task_id}: {state['task']} -> {state['target_model']}: "
            f"{_target_reason(state['task'])} (resume with: {PROGRAM} --resume {task_id})",
            file=sys.stderr,
            flush=True,
        )
    try:
        if args.resume:
            report = resume_task(task_id, services, checkpoints, on_step)
        else:
            report = run_task(state, services, checkpoints, on_step)
    except ModelUnavailable as error:
        raise UserError(f"{error} (then resume with: {PROGRAM} --resume {task_id})") from None
    report["target_reason"] = _target_reason(report.get("task") or state["task"])
    if report.get("diff"):
        report["patch"] = str(save_patch(report["diff"], settings.state_dir / "patches", task_id))
    if args.apply:
        report.update(_apply(args, state, report, saved_state(task_id, services, checkpoints)))
    else:
        report.update(applied=False, not_applied_reason="--apply not given")
    failure = report.pop("exit_code", None)
    print(json.dumps(report, indent=2) if args.json else render_report(report))
    if not args.json:
        if report.get("patch"):
            print(f"Patch: {report['patch']}")
        for line in _apply_lines(report):
            print(line)
    if failure is not None:
        saved = (f"the patch is saved at {report['patch']}" if report.get("patch")
                 else "no patch was produced")
        raise UserError(f"not applied: {report['not_applied_reason']}; {saved}",
                        exit_code=failure)
    return 0 if report.get("status") == "verified" else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return execute(args)
    except UserError as error:
        return report_user_error(PROGRAM, error)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted; resume with --resume and the task ID", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - a bug of ours: one line, details in a log
        log = _write_crash_log(error)
        print(
            f"{PROGRAM}: internal error: {type(error).__name__}: {error} (details: {log}; "
            "the task can be resumed with --resume ID)",
            file=sys.stderr,
        )
        return 3


def _write_crash_log(error: Exception) -> str:
    import os
    import time
    import traceback

    folder = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local/state")) / "ellora"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
    path.write_text("".join(traceback.format_exception(error)))
    return str(path)


def run(args: argparse.Namespace) -> int:
    """Entry from ``ellora agent``."""
    return execute(args)


if __name__ == "__main__":
    sys.exit(main())
