"""The bubblewrap command line, and a once-per-process probe of whether it works here.

Layout inside the sandbox: a tmpfs root holding read-only binds of the system directories
(``/usr``, ``/etc``, ``/opt``, the ``/bin``-style links, the CPU topology in ``/sys`` that hwloc
and MPI read), a minimal ``/dev``, a fresh ``/proc``, private size-limited ``/tmp`` and
``/dev/shm``, empty tmpfs over the caller's ``$HOME`` and ``/root``, and the workspace bound
read-write at its own path. Namespaces: pid, network (loopback only), ipc, uts, cgroup, and
user when not root.

Two launch modes:

* run by root (``uid`` given): bubblewrap sets up the mounts as root and drops every
  capability but SETUID/SETGID/SETPCAP; ``setpriv`` then empties the bounding set, becomes the
  per-run unprivileged ``uid`` with no-new-privs (setuid binaries cannot elevate) and re-arms
  the parent-death signal. The workspace may live anywhere (root does the bind).
* run by anyone else: an unprivileged user namespace, further user namespaces disabled.

Both load the seccomp filter of :mod:`ellora.sandbox.seccomp` (no new user namespaces) where
the probe found it to work.

In both the process chain is ``[setpriv] -> prlimit -> ellora-init`` (or ``sh`` when no C
compiler could build it) as pid 1 of the new pid namespace, with the command as pid 2: when it
exits, pid 1 reports how (see :mod:`ellora.sandbox.init_helper`) and exits, and the kernel kills
everything left in the namespace (double-forked daemons included).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from ellora.sandbox.limits import prlimit_argv
from ellora.sandbox.seccomp import filter_bytes

RO_BINDS = ("/usr", "/etc", "/opt", "/sys/devices/system")
_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# pid 1: enter the workspace (as the sandbox user: bubblewrap's own chdir runs without
# capabilities and may not enter it), run the command as a child, exit with its status
# (which kills the rest of the namespace)
_INIT_SCRIPT = 'cd -- "$1" || exit 125; shift; "$@"; status=$?; exit $status'
INIT_INSIDE = "/.ellora/init"
_NAMESPACES = ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try")

_probe_lock = threading.Lock()
_probe_cache: dict[bool, tuple[str | None, bool]] = {}
_warned = False


def bwrap_path() -> str | None:
    """The bubblewrap binary, or None when it is not installed."""
    return shutil.which("bwrap") or ("/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK)
                                     else None)


def _system_binds() -> list[str]:
    """Read-only binds of the system directories, and the merged-/usr links."""
    args: list[str] = []
    for name in _LINKS:
        path = Path("/", name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    done: list[str] = []
    for path in RO_BINDS:
        if Path(path).exists():
            args += [*_parents(path, tuple(done), tuple(done)), "--ro-bind", path, path]
            done.append(path)
    return args


def _extra_binds(extra_ro: tuple[str, ...], mounts: tuple[str, ...]) -> list[str]:
    """The caller's extra read-only paths, bound last so no tmpfs hides them (one under the
    hidden home stays visible, alone)."""
    args: list[str] = []
    done: list[str] = []
    for path in extra_ro:
        if Path(path).exists():
            readonly = (*RO_BINDS, *done)
            args += [*_parents(path, (*mounts, *done), readonly), "--ro-bind", path, path]
            done.append(path)
    return args


def _parents(dest: str, mounts: tuple[str, ...], readonly: tuple[str, ...]) -> list[str]:
    """``--dir`` (mode 0755) for each ancestor of ``dest`` that is not a mount point already
    and not inside a read-only bind: bubblewrap would otherwise create them mode 0700."""
    args: list[str] = []
    for parent in reversed(Path(dest).parents):
        text = str(parent)
        if text == "/" or text in mounts or any(text.startswith(r + "/") for r in readonly):
            continue
        args += ["--perms", "0755", "--dir", text]
    return args


def _private_dirs(size_bytes: int) -> list[str]:
    """A fresh /dev, /proc, and private size-limited /tmp and /dev/shm."""
    size = str(size_bytes)
    return ["--dev", "/dev", "--proc", "/proc",
            "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
            "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm"]


def _homes() -> tuple[str, ...]:
    """The caller's home directory and /root."""
    homes = {"/root", os.path.realpath(os.environ.get("HOME") or "/root")}
    homes.discard("/")
    return tuple(sorted(homes))


def _hidden_homes() -> list[str]:
    """Empty tmpfs over the caller's home and /root: nothing of either is visible."""
    return [arg for home in _homes() for arg in ("--tmpfs", home)]


def build_argv(command: list[str], workspace: Path, rlimits: list[tuple[str, int, int]],
               tmp_bytes: int, uid: int | None, extra_ro: tuple[str, ...] = (),
               seccomp_fd: int | None = None, init: Path | None = None,
               report_fd: int | None = None) -> list[str]:
    """The full ``bwrap ... -- [setpriv ...] prlimit ... -- INIT ... CMD...`` line.

    ``seccomp_fd``: a readable fd holding the filter of :mod:`ellora.sandbox.seccomp`.
    ``init``/``report_fd``: the ``ellora-init`` helper (shown at ``/.ellora/init``) and the fd
    it reports to; without them ``sh`` is pid 1.
    """
    ws = str(workspace)
    extra_ro = tuple(sorted(set(extra_ro), key=len))  # outer paths before inner ones
    ro = (*RO_BINDS, *extra_ro)
    base_mounts = ("/tmp", "/dev", "/dev/shm", "/proc", *_homes(), *RO_BINDS)
    mounts = (*base_mounts, *extra_ro)
    argv = [bwrap_path() or "bwrap", *_NAMESPACES, "--die-with-parent", "--new-session",
            "--as-pid-1", "--hostname", "ellora-sandbox"]
    if os.geteuid() == 0:
        keep = [arg for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")
                for arg in ("--cap-add", cap)] if uid is not None else []
        argv += ["--cap-drop", "ALL", *keep]
    else:
        argv += ["--unshare-user", "--disable-userns"]
    argv += [*_system_binds(), *_private_dirs(tmp_bytes), *_hidden_homes(),
             *_extra_binds(extra_ro, base_mounts), *_parents(ws, mounts, ro), "--bind", ws, ws]
    if init is not None:
        argv += ["--perms", "0755", "--dir", "/.ellora", "--ro-bind", str(init), INIT_INSIDE]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    argv.append("--")
    if os.geteuid() == 0 and uid is not None:
        argv += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--nnp",
                 "--pdeathsig=KILL", "--inh-caps=-all", "--bounding-set=-all"]
    if init is not None and report_fd is not None:
        return [*argv, *prlimit_argv(rlimits), INIT_INSIDE, str(report_fd), ws, *command]
    return [*argv, *prlimit_argv(rlimits), "sh", "-c", _INIT_SCRIPT, "ellora", ws, *command]


def seccomp_fd() -> int | None:
    """A pipe's read end holding the user-namespace filter (the caller closes it), or None."""
    data = filter_bytes()
    if data is None:
        return None
    read_end, write_end = os.pipe()
    os.write(write_end, data)  # a few hundred bytes: fits in the pipe buffer
    os.close(write_end)
    return read_end


def probe(uid: int | None) -> str | None:
    """Whether bubblewrap works here for this kind of run: None if so, else why not.

    Runs ``true`` in a throwaway sandbox once per process (per mode) and caches the answer,
    first with the seccomp filter, then without it.
    """
    return _cached_probe(uid)[0]


def seccomp_works(uid: int | None) -> bool:
    """Whether the probe found the seccomp filter usable (checked together with :func:`probe`)."""
    return _cached_probe(uid)[1]


def _cached_probe(uid: int | None) -> tuple[str | None, bool]:
    key = uid is not None
    with _probe_lock:
        if key not in _probe_cache:
            reason = _run_probe(uid, with_seccomp=True)
            with_filter = reason is None
            if reason is not None:
                reason = _run_probe(uid, with_seccomp=False)
            _probe_cache[key] = (reason, with_filter)
        return _probe_cache[key]


def _run_probe(uid: int | None, with_seccomp: bool) -> str | None:
    if bwrap_path() is None:
        return "bwrap is not installed"
    for tool in ("prlimit", "sh") + (("setpriv",) if uid is not None else ()):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    fd = seccomp_fd() if with_seccomp else None
    if with_seccomp and fd is None:
        return "no seccomp filter for this machine"
    try:
        with tempfile.TemporaryDirectory(prefix="ellora-probe-") as ws:
            os.chmod(ws, 0o755)
            argv = build_argv(["true"], Path(ws), [], 1 << 20, uid, seccomp_fd=fd)
            done = subprocess.run(argv, check=False, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=20, start_new_session=True,
                                  pass_fds=() if fd is None else (fd,))
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        if fd is not None:
            os.close(fd)
    if done.returncode != 0:
        message = " ".join(done.stderr.decode(errors="replace").split())[:200]
        return message or f"bwrap exited with status {done.returncode}"
    return None


def warn_fallback(reason: str) -> None:
    """Say once per process, in one line on stderr, that runs are not isolated."""
    global _warned
    with _probe_lock:
        if _warned:
            return
        _warned = True
    print(f"ellora.sandbox: warning: bubblewrap unavailable ({reason}); falling back to "
          "rlimits + process group, without filesystem or network isolation", file=sys.stderr)
