"""Content-addressed cache of builds: the same sources, flags and toolchain give the same
binary, so a second build is a copy.

The key hashes the compile command (with the output name), the bytes of every input file in
the workspace and the identity (path, size, mtime) of the compiler and of the libraries the
command links from ``-L`` directories, so a changed toolchain misses the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

_SKIP_SUFFIXES = {".out", ".o"}


def default_cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "ellora" / "builds"


def _file_identity(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def _toolchain_identity(command: list[str]) -> list[str]:
    compiler = shutil.which(command[0]) or command[0]
    identity = [_file_identity(Path(os.path.realpath(compiler)))]
    lib_dirs = [part[2:] for part in command if part.startswith("-L")]
    libraries = [part[2:] for part in command if part.startswith("-l")]
    for lib_dir in lib_dirs:
        for name in libraries:
            for candidate in sorted(Path(lib_dir).glob(f"lib{name}.so*"))[:1]:
                identity.append(_file_identity(candidate.resolve()))
    return identity


class BuildCache:
    """Stores the output and log of each build under the hash of everything that made it."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else default_cache_dir()

    def key(
        self, command: list[str], workspace: Path, output: str, ignore: frozenset[str] = frozenset()
    ) -> str:
        """Hash of the command, the toolchain and every workspace input but ``ignore``."""
        digest = hashlib.sha256()
        digest.update(json.dumps([command, _toolchain_identity(command)]).encode())
        for path in sorted(workspace.iterdir()):
            if (
                path.is_file()
                and path.name != output
                and path.name not in ignore
                and not path.name.startswith(".sandbox")
                and path.suffix not in _SKIP_SUFFIXES
                and not os.access(path, os.X_OK)
            ):
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def lookup(self, key: str, workspace: Path, output: str) -> dict | None:
        """Copy the cached output into ``workspace``; returns the stored record or None."""
        entry = self.root / key[:2] / key
        record_path = entry / "record.json"
        if not record_path.is_file():
            return None
        record = json.loads(record_path.read_text())
        if record["ok"]:
            shutil.copy2(entry / "output", workspace / output)
        return record

    def store(self, key: str, workspace: Path, output: str, ok: bool, log: str) -> None:
        """Save a finished build (atomically, so concurrent builders never see half an entry)."""
        entry = self.root / key[:2] / key
        if entry.exists():
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
        try:
            if ok:
                shutil.copy2(workspace / output, staging / "output")
            (staging / "record.json").write_text(json.dumps({"ok": ok, "log": log}))
            os.replace(staging, entry)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
