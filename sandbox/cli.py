"""``ellora sandbox run [--time S] [--mem MB] [--disk MB] [--procs N] [--keep] -- CMD...``

Runs CMD in a fresh, empty workspace (nothing is copied in) and prints the RunResult as JSON.
Exit status 0 when the command succeeded within its limits, 1 otherwise, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from ellora.sandbox.records import Limits

_USAGE = "ellora sandbox run [--time S] [--mem MB] [--disk MB] [--procs N] [--keep] -- CMD..."


class _InputError(Exception):
    """Bad command line; reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage and exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise _InputError(message)


def _inner_parser() -> _Parser:
    parser = _Parser(prog="ellora sandbox run", usage=_USAGE, add_help=True,
                     description="Run a command in a fresh sandbox and print the result as JSON.")
    parser.add_argument("--time", type=float, default=60.0, metavar="S",
                        help="wall-clock limit in seconds (default 60; CPU limit is twice this)")
    parser.add_argument("--mem", type=int, default=4096, metavar="MB",
                        help="address-space limit per process in MB (default 4096); the "
                             "private /tmp and /dev/shm hold at most as much each")
    parser.add_argument("--disk", type=int, default=Limits.disk_mb, metavar="MB",
                        help="how much the command may add to its workspace, in MB "
                             f"(default {Limits.disk_mb})")
    parser.add_argument("--procs", type=int, default=256, metavar="N",
                        help="limit on processes and threads (default 256)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the workspace and print its path in the JSON")
    parser.add_argument("--isolation", choices=("auto", "bubblewrap", "rlimits"), default="auto",
                        help="which isolation to use (default: bubblewrap if it works)")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD")
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``run`` and take the rest of the line verbatim (parsed by :func:`run`)."""
    parser.usage = _USAGE
    parser.epilog = "Run 'ellora sandbox run --help' for the options."
    parser.add_argument("action", nargs="?", metavar="run", help="the only action: run")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def _parse(args: argparse.Namespace) -> argparse.Namespace:
    if args.action != "run":
        what = f"unknown action {args.action!r}" if args.action else "missing action"
        raise _InputError(f"{what}; usage: {_USAGE}")
    options = _inner_parser().parse_args(args.rest)
    command = options.cmd[1:] if options.cmd[:1] == ["--"] else options.cmd
    if not command:
        raise _InputError(f"no command given; usage: {_USAGE}")
    if command[0].startswith("-"):
        raise _InputError(f"unknown option {command[0]!r}; put the command after '--'")
    if options.time <= 0 or options.mem <= 0 or options.procs <= 0 or options.disk <= 0:
        raise _InputError("--time, --mem, --disk and --procs must be positive")
    options.cmd = command
    return options


def run(args: argparse.Namespace) -> int:
    """Parse, run the command in a fresh workspace, print JSON; 0 ok, 1 failed, 2 bad input."""
    try:
        options = _parse(args)
    except _InputError as error:
        print(f"ellora sandbox: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    from ellora.sandbox.local import LocalSandbox

    limits = Limits(wall_s=options.time, cpu_s=2 * options.time, memory_mb=options.mem,
                    procs=options.procs, disk_mb=options.disk)
    try:
        sandbox = LocalSandbox(isolation=options.isolation)
        workspace = sandbox.new_workspace("cli-")
    except (RuntimeError, OSError, ValueError) as error:
        print(f"ellora sandbox: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    try:
        result = sandbox.run(options.cmd, workspace, limits)
    finally:
        if options.keep:
            sandbox.keep_workspace(workspace)
        else:
            sandbox.discard_workspace(workspace)
    report = result.to_dict()
    report.update(ok=result.ok, kept=options.keep,
                  workspace=str(workspace) if options.keep else None)
    print(json.dumps(report, indent=2))
    return 0 if result.ok else 1
