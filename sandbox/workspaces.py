"""Who owns each workspace, so that those of a killed process are cleaned at the next start.

Every workspace ``ROOT/NAME`` made by this process has a lock file ``ROOT/.owners/NAME.lock``
on which the process holds an exclusive ``flock`` for as long as the workspace lives. The
kernel drops the lock when the process dies, however it dies (``kill -9`` included), so a
lock file whose lock can be taken names a workspace nobody owns any more: the first sandbox
of a later process removes it (:func:`clean_stale`), and never one whose owner is alive.

A workspace is kept on purpose by releasing its record without removing it
(:func:`release`): ``ellora sandbox run --keep``, and every workspace still there when the
interpreter exits normally (``sandbox.keep_workspaces``, a report that names its workspace).
"""

from __future__ import annotations

import atexit
import fcntl
import os
import secrets
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path

OWNERS = ".owners"
_SUFFIX = ".lock"
_CLAIM_PREFIX = ".claim-"
CLAIM_GRACE_S = 60.0

_lock = threading.Lock()
_held: dict[Path, int] = {}  # workspace -> fd holding its owner lock
_cleaned: set[Path] = set()


def _owners_dir(root: Path) -> Path:
    folder = root / OWNERS
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def create(root: Path, prefix: str) -> Path:
    """A fresh empty directory ``root/PREFIX...`` owned by this process.

    The owner record is locked before the directory exists, so a process killed at any
    point leaves nothing a later :func:`clean_stale` cannot attribute and remove."""
    for _ in range(100):
        workspace = root / f"{prefix}{secrets.token_hex(5)}"
        if workspace.exists() or (root / OWNERS / f"{workspace.name}{_SUFFIX}").exists():
            continue
        claim(root, workspace)
        try:
            workspace.mkdir(mode=0o700)
        except FileExistsError:
            release(workspace)
            continue
        except BaseException:
            release(workspace)
            raise
        return workspace
    raise FileExistsError(f"no free workspace name in {root}")


def claim(root: Path, workspace: Path) -> None:
    """Record this process as the owner of ``workspace`` (in ``root``; it need not exist yet).

    The lock is taken on a temporary name and renamed into place, so a cleaner never sees
    an owner record that is not locked yet."""
    owners = _owners_dir(root)
    fd, temp = tempfile.mkstemp(prefix=_CLAIM_PREFIX, dir=owners)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.rename(temp, owners / f"{workspace.name}{_SUFFIX}")
    except BaseException:
        os.close(fd)
        Path(temp).unlink(missing_ok=True)
        raise
    with _lock:
        _held[workspace] = fd


def release(workspace: Path) -> None:
    """Forget ``workspace``'s owner record (after removing it, or to keep it for good)."""
    with _lock:
        fd = _held.pop(workspace, None)
    if fd is None:
        return
    try:
        (workspace.parent / OWNERS / f"{workspace.name}{_SUFFIX}").unlink(missing_ok=True)
    finally:
        os.close(fd)


def clean_stale(root: Path) -> list[Path]:
    """Remove the workspaces in ``root`` whose owner process is gone; returns them."""
    owners = root / OWNERS
    if not owners.is_dir():
        return []
    removed = []
    for record in owners.iterdir():
        if record.name.startswith(_CLAIM_PREFIX) and _younger_than(record, CLAIM_GRACE_S):
            continue  # a claim being made right now: not locked for a moment
        if record.name.startswith(_CLAIM_PREFIX) or record.name.endswith(_SUFFIX):
            workspace = _take_stale(root, record)
            if workspace is not None:
                removed.append(workspace)
    return removed


def _younger_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.lstat().st_mtime < seconds
    except OSError:
        return True


def _take_stale(root: Path, record: Path) -> Path | None:
    """Remove ``record`` and its workspace if no live process holds its lock."""
    try:
        fd = os.open(record, os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None  # the owner is alive
        try:
            if os.stat(record).st_ino != os.fstat(fd).st_ino:
                return None  # released and replaced meanwhile
        except FileNotFoundError:
            return None  # released (kept or discarded) meanwhile
        workspace = None
        if record.name.endswith(_SUFFIX) and not record.name.startswith(_CLAIM_PREFIX):
            workspace = root / record.name[: -len(_SUFFIX)]
            _remove_tree(workspace)
        record.unlink(missing_ok=True)
        return workspace
    finally:
        os.close(fd)


def _remove_tree(path: Path) -> None:
    """Remove a workspace directory (never through a symbolic link)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(path, ignore_errors=True)


def clean_stale_once(root: Path) -> None:
    """:func:`clean_stale` the first time this process uses ``root``."""
    with _lock:
        if root in _cleaned:
            return
        _cleaned.add(root)
    clean_stale(root)


@atexit.register
def _keep_what_is_left() -> None:
    """A normal exit keeps the workspaces nobody discarded (they were kept on purpose)."""
    for workspace in list(_held):
        release(workspace)
