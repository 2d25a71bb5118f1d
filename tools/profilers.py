"""Profilers as tools: perf stat counters, callgrind instruction counts, gprof flat profiles.

Each returns a :class:`ProfileSummary` an agent can read. Every tool runs in the sandbox; a
tool that is missing or refused (hardware counters in a VM) says so instead of failing.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ellora.sandbox import Limits, Sandbox

PERF_EVENTS = (
    "task-clock",
    "instructions",
    "cycles",
    "cache-misses",
    "branch-misses",
    "context-switches",
    "page-faults",
)


@dataclass
class ProfileSummary:
    """What one profiler found: counters, instruction totals and the top functions."""

    tool: str
    available: bool
    message: str = ""
    counters: dict[str, float] = field(default_factory=dict)
    unsupported: list[str] = field(default_factory=list)
    total_instructions: int | None = None
    ipc: float | None = None
    top_functions: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _missing(tool: str, package: str) -> ProfileSummary:
    return ProfileSummary(tool, False, f"{tool} not found: apt-get install {package}")


def perf_stat(
    sandbox: Sandbox,
    workspace: Path,
    command: list[str],
    limits: Limits,
    env: dict[str, str] | None = None,
) -> ProfileSummary:
    """``perf stat`` software and hardware counters; refused counters are listed, not faked."""
    if shutil.which("perf") is None:
        return _missing("perf", "linux-perf")
    result = sandbox.run(
        ["perf", "stat", "-x", ",", "-e", ",".join(PERF_EVENTS), "--", *command],
        workspace,
        limits,
        env=env,
    )
    summary = ProfileSummary("perf", True)
    for line in result.stderr.splitlines():
        parts = line.split(",")
        if len(parts) < 3 or parts[2] not in PERF_EVENTS:
            continue
        if parts[0].startswith("<not"):
            summary.unsupported.append(parts[2])
        else:
            summary.counters[parts[2]] = float(parts[0])
    if not summary.counters:
        return ProfileSummary(
            "perf",
            False,
            "perf stat gave no counters (perf_event_paranoid "
            f"or no permission): {result.stderr.strip()[-200:]}",
        )
    if {"instructions", "cycles"} <= set(summary.counters) and summary.counters["cycles"]:
        summary.ipc = summary.counters["instructions"] / summary.counters["cycles"]
    if summary.unsupported:
        summary.message = (
            f"the kernel refused {', '.join(summary.unsupported)} (hardware "
            "counters are not available on this machine, e.g. in a VM)"
        )
    return summary


_CALLGRIND_TOTAL = re.compile(r"^\s*([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS", re.MULTILINE)
_CALLGRIND_LINE = re.compile(
    r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S+):(.+?)(?:\s+\[|$)", re.MULTILINE
)


def callgrind(
    sandbox: Sandbox,
    workspace: Path,
    command: list[str],
    limits: Limits,
    env: dict[str, str] | None = None,
    top: int = 8,
    only_inside: str | None = None,
) -> ProfileSummary:
    """Instruction counts per function under valgrind: deterministic on a noisy machine.
    ``only_inside`` (a callgrind function pattern) counts only what runs inside it."""
    if shutil.which("valgrind") is None:
        return _missing("callgrind", "valgrind")
    out = "callgrind.out"
    toggle = [f"--toggle-collect={only_inside}"] if only_inside else []
    result = sandbox.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *toggle, *command],
        workspace,
        limits.replace(memory_mb=max(limits.memory_mb, 16384)),
        env=env,
    )
    if not (workspace / out).is_file():
        return ProfileSummary("callgrind", False, f"valgrind failed: {result.stderr[-300:]}")
    annotated = sandbox.run(["callgrind_annotate", "--inclusive=no", out], workspace, limits)
    total = _CALLGRIND_TOTAL.search(annotated.stdout)
    summary = ProfileSummary(
        "callgrind",
        True,
        total_instructions=int(total.group(1).replace(",", "")) if total else None,
    )
    for match in _CALLGRIND_LINE.finditer(annotated.stdout):
        if "PROGRAM TOTALS" in match.group(0) or len(summary.top_functions) >= top:
            continue
        summary.top_functions.append(
            {
                "function": match.group(4).strip(),
                "file": match.group(3),
                "instructions": int(match.group(1).replace(",", "")),
                "share": float(match.group(2)) / 100,
            }
        )
    return summary


_GPROF_LINE = re.compile(r"^\s*([\d.]+)\s+[\d.]+\s+([\d.]+)\s+(?:\d+\s+[\d.]+\s+[\d.]+\s+)?(.+)$")


def gprof(
    sandbox: Sandbox,
    workspace: Path,
    binary: str,
    args: list[str],
    limits: Limits,
    env: dict[str, str] | None = None,
    top: int = 8,
) -> ProfileSummary:
    """Flat profile of a binary built with ``-pg`` (run it, then read gmon.out)."""
    if shutil.which("gprof") is None:
        return _missing("gprof", "binutils")
    sandbox.run([f"./{binary}", *args], workspace, limits, env=env)
    if not (workspace / "gmon.out").is_file():
        return ProfileSummary("gprof", False, "no gmon.out: build the binary with -pg")
    result = sandbox.run(["gprof", "-b", "-p", binary, "gmon.out"], workspace, limits)
    summary = ProfileSummary("gprof", True)
    for line in result.stdout.splitlines():
        match = _GPROF_LINE.match(line)
        if match and len(summary.top_functions) < top:
            summary.top_functions.append(
                {
                    "function": match.group(3).strip(),
                    "share": float(match.group(1)) / 100,
                    "self_seconds": float(match.group(2)),
                }
            )
    return summary
