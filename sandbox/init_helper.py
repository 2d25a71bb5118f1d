"""``ellora-init``: a tiny C program that runs the command and reports how it ended.

Why: the process the caller spawns is forked from the caller, and the kernel counts the
caller's own resident memory into that process's peak RSS, so ``wait4`` on it cannot tell a
compiler's peak from the agent's. ``ellora-init`` is exec'd fresh, forks the command from its
own small image, waits for it (reaping orphans too while it is pid 1 of a sandbox), and writes
``exited|signaled CODE UTIME STIME MAXRSS_KB TMP_FREE TMP_SIZE SHM_FREE SHM_SIZE`` for all its
children to a report fd (the last four, in KB, describe the sandbox's private ``/tmp`` and
``/dev/shm`` tmpfs when it is pid 1 of one; -1 otherwise). It runs after the privilege drop,
inside the sandbox, so it holds no more power than the command; it makes itself non-dumpable
so that the command, running as the same uid, cannot ptrace it or read its memory.

It is compiled once per machine with the system C compiler into a private cache directory;
without a compiler the sandbox falls back to ``sh`` as pid 1 (exit status and CPU time still
right, peak RSS not measurable).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

/* free and total KB of the filesystem at path (a private tmpfs when pid 1), else -1 -1 */
static void space(const char *path, long *free_kb, long *size_kb) {
    struct statvfs fs;
    *free_kb = *size_kb = -1;
    if (getpid() != 1 || statvfs(path, &fs) != 0) return;
    *free_kb = (long)(fs.f_bavail * (fs.f_frsize / 1024));
    *size_kb = (long)(fs.f_blocks * (fs.f_frsize / 1024));
}

/* ellora-init REPORT_FD WORKDIR CMD [ARG...] */
int main(int argc, char **argv) {
    if (argc < 4) { fputs("usage: ellora-init FD DIR CMD...\n", stderr); return 125; }
    int report = atoi(argv[1]);
    fcntl(report, F_SETFD, FD_CLOEXEC);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  /* the command (same uid) may not ptrace us */
    if (chdir(argv[2]) != 0) { perror(argv[2]); return 125; }
    pid_t child = fork();
    if (child < 0) { perror("ellora-init: fork"); return 125; }
    if (child == 0) {
        execvp(argv[3], argv + 3);
        int err = errno;
        fprintf(stderr, "%s: %s\n", argv[3], strerror(err));
        _exit(err == ENOENT ? 127 : 126);
    }
    int status = 0, child_status = 0;
    for (;;) {
        pid_t pid = waitpid(-1, &status, 0);
        if (pid == child) { child_status = status; break; }
        if (pid < 0 && errno != EINTR) { perror("ellora-init: wait"); return 125; }
    }
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    int signaled = WIFSIGNALED(child_status);
    int code = signaled ? WTERMSIG(child_status) : WEXITSTATUS(child_status);
    long tmp_free, tmp_size, shm_free, shm_size;
    space("/tmp", &tmp_free, &tmp_size);
    space("/dev/shm", &shm_free, &shm_size);
    dprintf(report, "%s %d %ld.%06ld %ld.%06ld %ld %ld %ld %ld %ld\n",
            signaled ? "signaled" : "exited", code,
            (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
            (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss,
            tmp_free, tmp_size, shm_free, shm_size);
    return signaled ? 128 + code : code;
}
"""

_lock = threading.Lock()
_cached: dict[str, Path | None] = {}


@dataclass(frozen=True)
class Report:
    """How the command ended, as ``ellora-init`` saw it."""

    exit_code: int  # negative: killed by that signal
    cpu_s: float
    peak_rss_mb: float
    # mount point -> (free KB, size KB) of the sandbox's private tmpfs at the end
    tmpfs: dict[str, tuple[int, int]] = field(default_factory=dict)


def parse_report(text: str) -> Report | None:
    """Read the report line; None when absent or malformed (e.g. the run was killed)."""
    parts = text.split()
    if len(parts) != 9 or parts[0] not in ("exited", "signaled"):
        return None
    try:
        code, utime, stime, maxrss = int(parts[1]), float(parts[2]), float(parts[3]), int(parts[4])
        tmp_free, tmp_size, shm_free, shm_size = (int(part) for part in parts[5:9])
    except ValueError:
        return None
    tmpfs = {path: (free, size) for path, free, size in
             (("/tmp", tmp_free, tmp_size), ("/dev/shm", shm_free, shm_size)) if size > 0}
    return Report(-code if parts[0] == "signaled" else code, utime + stime, maxrss / 1024.0,
                  tmpfs)


def _cache_dir() -> Path | None:
    """A directory only this user can write: ``$TMPDIR/ellora-init-<uid>`` (mode 0711)."""
    folder = Path(tempfile.gettempdir()) / f"ellora-init-{os.geteuid()}"
    try:
        folder.mkdir(mode=0o711, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    safe = (stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))
    if not safe:
        return None
    folder.chmod(0o711)  # traversable by the per-run uids of the rlimits fallback
    return folder


def helper_path() -> Path | None:
    """The compiled helper (built on first use, then cached), or None without a compiler."""
    digest = hashlib.sha256(SOURCE.encode()).hexdigest()[:16]
    with _lock:
        if digest not in _cached:
            _cached[digest] = _build(digest)
        return _cached[digest]


def _build(digest: str) -> Path | None:
    folder = _cache_dir()
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if folder is None:
        return None
    target = folder / f"ellora-init-{digest}"
    if target.is_file() and not target.is_symlink():
        info = target.stat()
        if info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return target
        return None
    if compiler is None:
        return None
    with tempfile.TemporaryDirectory(dir=folder) as work:
        source, binary = Path(work, "init.c"), Path(work, "init")
        source.write_text(SOURCE)
        try:
            done = subprocess.run([compiler, "-O2", "-o", str(binary), str(source)],
                                  check=False, capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0:
            return None
        binary.chmod(0o755)
        os.replace(binary, target)  # atomic: concurrent builders agree on the result
    return target
