"""The fact store: one SQLite file with the indexed repositories and per-file parse facts.

A file's row keeps its content hash, mtime and size (a stat decides whether to read it again,
the hash whether to parse it again), its pickled :class:`FileFacts` and its chunk count.
"""

from __future__ import annotations

import pickle
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ellora.knowledge_graph.parse import FileFacts

FORMAT = "ellora-index-1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS repositories (
    name TEXT PRIMARY KEY, root TEXT, origin TEXT, license TEXT, url TEXT, indexed_at REAL,
    vectors INTEGER);
CREATE TABLE IF NOT EXISTS files (
    repository TEXT, path TEXT, digest TEXT, mtime_ns INTEGER, size INTEGER, lines INTEGER,
    language TEXT, facts BLOB, chunks INTEGER, PRIMARY KEY (repository, path));
CREATE TABLE IF NOT EXISTS skipped (
    repository TEXT, path TEXT, mtime_ns INTEGER, size INTEGER, reason TEXT,
    PRIMARY KEY (repository, path));
"""


@dataclass(frozen=True)
class Repository:
    """An indexed repository and where its files came from."""

    name: str
    root: str
    origin: str
    license: str
    url: str
    indexed_at: float
    vectors: bool


@dataclass(frozen=True)
class FileState:
    """What the store knows about a file without reading its facts."""

    digest: str
    mtime_ns: int
    size: int


class FactStore:
    """Repositories and parse facts of one index directory."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.executescript(SCHEMA)
        found = self.db.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        if found is None:
            self.db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
            self.db.commit()
        elif found[0] != FORMAT:
            raise ValueError(f"index at {path.parent} has format {found[0]}, expected {FORMAT}")

    def close(self) -> None:
        self.db.close()

    def repositories(self) -> list[Repository]:
        rows = self.db.execute("SELECT name, root, origin, license, url, indexed_at, vectors "
                               "FROM repositories ORDER BY name")
        return [Repository(*row[:6], bool(row[6])) for row in rows]

    def save_repository(self, name: str, root: str, origin: str, license: str, url: str,
                        vectors: bool, commit: bool = True) -> None:
        self.db.execute("INSERT OR REPLACE INTO repositories VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (name, root, origin, license, url, time.time(), int(vectors)))
        if commit:
            self.db.commit()

    def remove_repository(self, name: str) -> None:
        self.db.execute("DELETE FROM files WHERE repository=?", (name,))
        self.db.execute("DELETE FROM skipped WHERE repository=?", (name,))
        self.db.execute("DELETE FROM repositories WHERE name=?", (name,))
        self.db.commit()

    def file_states(self, repository: str) -> dict[str, FileState]:
        rows = self.db.execute("SELECT path, digest, mtime_ns, size FROM files "
                               "WHERE repository=?", (repository,))
        return {path: FileState(digest, mtime, size) for path, digest, mtime, size in rows}

    def put_file(self, repository: str, facts: FileFacts, mtime_ns: int, size: int,
                 chunks: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (repository, facts.path, facts.digest, mtime_ns, size, facts.lines,
                         facts.language, pickle.dumps(facts, protocol=5), chunks))

    def touch_file(self, repository: str, path: str, mtime_ns: int, size: int) -> None:
        self.db.execute("UPDATE files SET mtime_ns=?, size=? WHERE repository=? AND path=?",
                        (mtime_ns, size, repository, path))

    def delete_file(self, repository: str, path: str) -> None:
        self.db.execute("DELETE FROM files WHERE repository=? AND path=?", (repository, path))

    def skipped_states(self, repository: str) -> dict[str, tuple[int, int, str]]:
        """Files skipped before: path -> (mtime_ns, size, reason)."""
        rows = self.db.execute("SELECT path, mtime_ns, size, reason FROM skipped "
                               "WHERE repository=?", (repository,))
        return {path: (mtime, size, reason) for path, mtime, size, reason in rows}

    def put_skipped(self, repository: str, path: str, mtime_ns: int, size: int,
                    reason: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?, ?)",
                        (repository, path, mtime_ns, size, reason))

    def forget_skipped(self, repository: str, keep: set[str]) -> None:
        """Drop skip records of files that are gone or no longer skipped."""
        for path in set(self.skipped_states(repository)) - keep:
            self.db.execute("DELETE FROM skipped WHERE repository=? AND path=?",
                            (repository, path))

    def commit(self) -> None:
        self.db.commit()

    def all_facts(self, fresh: dict[tuple[str, str], FileFacts] | None = None
                  ) -> Iterator[tuple[str, FileFacts]]:
        """Every file's facts, as (repository, facts); ``fresh`` facts (by repository and
        path) are used as they are instead of being read back."""
        fresh = fresh or {}
        for repository, path in self.db.execute("SELECT repository, path FROM files "
                                                "ORDER BY repository, path").fetchall():
            found = fresh.get((repository, path))
            if found is None:
                blob = self.db.execute("SELECT facts FROM files WHERE repository=? AND path=?",
                                       (repository, path)).fetchone()[0]
                found = pickle.loads(blob)
            yield repository, found

    def counts(self) -> dict[str, dict[str, int]]:
        """Files, lines and chunks per repository."""
        rows = self.db.execute("SELECT repository, COUNT(*), SUM(lines), SUM(chunks) "
                               "FROM files GROUP BY repository")
        return {repo: {"files": files, "lines": lines or 0, "chunks": chunks or 0}
                for repo, files, lines, chunks in rows}
