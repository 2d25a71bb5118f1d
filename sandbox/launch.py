"""How one run is started (the argv and Popen options of either isolation mode) and how its
end is read back (from ``ellora-init``'s report, else from ``wait4``)."""

from __future__ import annotations

import os
import resource
import shutil
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ellora.sandbox import bwrap, init_helper
from ellora.sandbox.limits import apply_rlimits, decode_shell_status, prlimit_argv, rlimit_table
from ellora.sandbox.records import Limits

_MB = 1024 * 1024


@dataclass
class Launch:
    """What to hand to ``subprocess.Popen``, and the fds to close or read afterwards."""

    argv: list[str]
    options: dict
    close_after_spawn: list[int] = field(default_factory=list)
    report_fd: int | None = None  # read end of ellora-init's report pipe


@dataclass
class Outcome:
    """How the command ended."""

    exit_code: int
    cpu_s: float
    peak_rss_mb: float
    notes: list[str]
    full_tmpfs: list[str] = field(default_factory=list)  # private tmpfs left (nearly) full


def tmpfs_bytes(limits: Limits) -> int:
    """The size of each private tmpfs (``/tmp``, ``/dev/shm``): what it holds lives in the
    host's memory, so it is tied to the memory limit (and never above the file-size limit)."""
    return max(1, min(limits.memory_mb, limits.file_mb)) * _MB


def tmpfs_note(full: list[str], limits: Limits) -> str:
    """One line for the notes of a run that filled its private tmpfs."""
    return (f"{' and '.join(full)} filled up: each private tmpfs holds "
            f"{tmpfs_bytes(limits) // _MB} MB (the memory limit; it lives in host memory)")


def _findable(program: str, workspace: Path, path: str) -> bool:
    """Whether ``program`` names an existing file (relative to the workspace) or is on PATH."""
    if "/" in program:
        return (workspace / program).is_file()
    return shutil.which(program, path=path) is not None


def prepare(command: list[str], workspace: Path, limits: Limits, env: dict[str, str],
            mode: str, uid: int | None, ro_binds: tuple[str, ...]) -> Launch | None:
    """The launch of one run; None when the command cannot be found (rlimits mode)."""
    if mode != "bubblewrap" and not _findable(command[0], workspace, env.get("PATH", os.defpath)):
        return None
    table = rlimit_table(limits)
    launch = Launch([], {"cwd": workspace, "env": env, "start_new_session": True})
    init = init_helper.helper_path()
    report_w = None
    if init is not None:
        launch.report_fd, report_w = os.pipe()
        launch.close_after_spawn.append(report_w)
    if mode == "bubblewrap":
        filter_fd = bwrap.seccomp_fd() if bwrap.seccomp_works(uid) else None
        if filter_fd is not None:
            launch.close_after_spawn.append(filter_fd)
        launch.argv = bwrap.build_argv(command, workspace, table, tmpfs_bytes(limits),
                                       uid, ro_binds, filter_fd, init, report_w)
    else:
        if uid is not None:
            launch.options.update(user=uid, group=uid, extra_groups=[])
        # "." : Popen enters the workspace before the uid switch (its parents may be closed)
        wrapped = [str(init), str(report_w), ".", *command] if init else command
        if shutil.which("prlimit"):
            launch.argv = prlimit_argv(table) + wrapped
        else:  # preexec_fn is not thread-safe; only used when prlimit is missing
            launch.argv, launch.options["preexec_fn"] = wrapped, partial(apply_rlimits, table)
    launch.options["pass_fds"] = tuple(launch.close_after_spawn)
    return launch


def read_report(fd: int | None) -> init_helper.Report | None:
    """Whatever ``ellora-init`` wrote (never blocks), and close the fd."""
    if fd is None:
        return None
    try:
        os.set_blocking(fd, False)
        data = os.read(fd, 4096)
    except (BlockingIOError, OSError):
        data = b""
    finally:
        os.close(fd)
    return init_helper.parse_report(data.decode(errors="replace"))


def outcome(status: int, usage: resource.struct_rusage, report: init_helper.Report | None,
            mode: str, timed_out: bool) -> Outcome:
    """Exit code, CPU and peak RSS: exact from the report, else the best ``wait4`` allows."""
    if report is not None:
        full = [path for path, (free_kb, size_kb) in report.tmpfs.items()
                if mode == "bubblewrap" and free_kb < max(1024, size_kb // 100)]
        return Outcome(report.exit_code, report.cpu_s, report.peak_rss_mb, [], full)
    raw = os.waitstatus_to_exitcode(status)
    notes = ["peak_rss_mb not measured (no report from ellora-init)"]
    exit_code = raw
    if mode == "bubblewrap" and not timed_out:
        exit_code, decoded = decode_shell_status(raw)
        if decoded:
            notes.append(f"exit status {raw} read as signal {-exit_code}")
    return Outcome(exit_code, usage.ru_utime + usage.ru_stime, 0.0, notes)
