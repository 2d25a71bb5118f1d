"""The one place that reads and writes the user's files: regions, patches, atomic apply."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from ellora.agents.cli.errors import UserError


def read_source(path: Path) -> str:
    """The text of a source file, or a one-line error naming it."""
    if not path.exists():
        raise UserError(f"file {path} not found: check --file")
    if not path.is_file():
        raise UserError(f"{path} is not a regular file: give a source file with --file")
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text: give a C/C++ source file") from None
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None


def parse_line_range(spec: str | None, text: str, path: Path) -> tuple[int, int]:
    """``"10-20"`` -> (10, 20), checked against the file; no range means the whole file."""
    count = len(text.splitlines())
    if count == 0:
        raise UserError(f"{path} is empty: nothing to change")
    if spec is None:
        return 1, count
    first_text, sep, last_text = spec.partition("-")
    try:
        first, last = int(first_text), int(last_text if sep else first_text)
    except ValueError:
        raise UserError(f"bad --lines {spec!r}: write it as A-B (1-based, inclusive)") from None
    if first < 1 or last < first:
        raise UserError(f"bad --lines {spec!r}: need 1 <= A <= B")
    if last > count:
        raise UserError(f"lines {first}-{last} are outside {path} ({count} lines): check --lines")
    return first, last


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def save_patch(diff: str, folder: Path, task_id: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{task_id}.patch"
    path.write_text(diff)
    return path


def backup_path(path: Path) -> Path:
    """``f.cpp.orig``, or ``f.cpp.orig.N`` when earlier backups exist; never overwrites one."""
    candidate = path.with_name(path.name + ".orig")
    number = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.orig.{number}")
        number += 1
    return candidate


def write_target(path: Path) -> Path:
    """The file a write to ``path`` lands in: the end of its chain of symbolic links."""
    return Path(os.path.realpath(path))


def is_read_only(path: Path) -> bool:
    """Whether ``path`` is read-only: no write bit at all (which binds root too), or not
    writable by this user."""
    return not path.stat().st_mode & 0o222 or not os.access(path, os.W_OK)


def apply_change(path: Path, expected_original: str, new_text: str, force: bool = False) -> Path:
    """Write ``new_text`` to ``path`` atomically, keeping the original; returns the backup.

    A symbolic link is written through: the file it names is replaced (atomically, its
    backup beside it) and the link stays. Refuses when the file changed since the task read
    it, and a read-only file unless ``force``.
    """
    target = write_target(path)
    current = read_source(target)
    if fingerprint(current) != fingerprint(expected_original):
        raise UserError(
            f"{path} changed since the task started: rerun the task on the current file"
        )
    if is_read_only(target) and not force:
        raise UserError(f"{target} is read-only: rerun with --force to write it anyway")
    backup = backup_path(target)
    mode = target.stat().st_mode
    try:
        backup.write_text(current)
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:
        raise UserError(f"cannot write beside {target}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "w") as out:
            out.write(new_text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_name, mode & 0o7777)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return backup
