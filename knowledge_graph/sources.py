"""Find the source files of a library: a path the user gives, a git clone when the network
allows, or what the system installed (a configured Spack or CMake prefix, else the Debian
``-dev`` packages).

``git`` is the one subprocess here: it fetches a public repository (no code from it runs),
in its own process group, killed whole on timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from ellora.knowledge_graph.config import IndexSettings
from ellora.knowledge_graph.languages import language_of
from ellora.knowledge_graph.manifest import Library, find_library

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "build", ".tox",
             "_build", "spack-build", "CMakeFiles"}
DPKG_INFO = Path("/var/lib/dpkg/info")


class SourceNotFound(Exception):
    """No sources for a name: the message says what was tried and what to do."""


@dataclass
class SourceSet:
    """The files of one repository to index, relative to ``root``."""

    repository: str
    root: Path
    files: list[Path]
    origin: str
    library: Library | None = None
    notes: list[str] = field(default_factory=list)

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def only(self, patterns: list[str]) -> SourceSet:
        """Keep the files whose relative path (or name) matches one of the glob patterns."""
        if patterns:
            self.files = [f for f in self.files
                          if any(fnmatch(self.relative(f), p) or fnmatch(f.name, p)
                                 for p in patterns)]
        return self


def resolve_sources(target: str, settings: IndexSettings, index_root: Path,
                    source: str = "auto", name: str | None = None) -> SourceSet:
    """Sources for ``target`` (a directory or a manifest name); ``source`` is ``auto``,
    ``clone``, ``system`` or a directory to use for the manifest library ``target``."""
    library = find_library(target)
    if source not in ("auto", "clone", "system"):
        directory = Path(source).expanduser()
        if not directory.is_dir():
            raise SourceNotFound(f"--source {source} is not a directory: give the library's "
                                 "source directory, or auto|clone|system")
        return _from_directory(directory, name or (library.name if library else target), library)
    as_path = Path(target).expanduser()
    if as_path.is_dir() and (library is None or os.sep in target or target.startswith(".")):
        found = find_library(as_path.resolve().name)
        return _from_directory(as_path, name or (found.name if found else as_path.resolve().name),
                               found)
    if library is None:
        raise SourceNotFound(f"{target!r} is neither a directory nor a library of the E4S "
                             "manifest: give a path, or see 'ellora index libraries'")
    return _library_sources(library, settings, index_root, source, name or library.name)


def _library_sources(library: Library, settings: IndexSettings, index_root: Path,
                     source: str, name: str) -> SourceSet:
    tried: list[str] = []
    if source in ("auto", "clone"):
        found = _from_clone(library, settings, index_root, name, tried)
        if found is not None:
            return found
    if source in ("auto", "system"):
        for finder in (_from_prefixes, _from_debian):  # a configured prefix wins
            found = finder(library, settings, name, tried)
            if found is not None:
                return found
    hint = (f"apt-get install {' '.join(library.debian)}" if library.debian
            else f"clone {library.repository}")
    raise SourceNotFound(f"no sources found for {library.name} ({'; '.join(tried)}): "
                         f"{hint}, then give its path with --source DIR")


def _from_directory(directory: Path, name: str, library: Library | None) -> SourceSet:
    root = directory.resolve()
    files = sorted(walk_sources(root))
    return SourceSet(repository=name, root=root, files=files, origin=f"path:{root}",
                     library=library)


def walk_sources(root: Path) -> list[Path]:
    """Every file under ``root`` in a known language, skipping VCS and build folders."""
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        found.extend(Path(folder, n) for n in names if language_of(n) is not None)
    return found


def _from_clone(library: Library, settings: IndexSettings, index_root: Path, name: str,
                tried: list[str]) -> SourceSet | None:
    target = Path(settings.sources_dir or index_root / "sources").expanduser() / library.name
    if not (target / ".git").is_dir():
        if not settings.clone:
            tried.append("git clone disabled (index.clone=false)")
            return None
        error = git_clone(library.repository, target, settings.clone_timeout_s)
        if error:
            tried.append(f"git clone failed: {error}")
            return None
    found = _from_directory(target, name, library)
    found.origin = f"clone:{library.repository}"
    return found


def git_clone(url: str, target: Path, timeout_s: float) -> str | None:
    """Shallow-clone ``url`` into ``target``; None on success, else the last error line."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        process = subprocess.Popen(["git", "clone", "--quiet", "--depth", "1", url, str(partial)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   env=env, start_new_session=True)
    except OSError as error:
        return str(error)
    try:
        _, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        _remove_tree(partial)
        return f"timed out after {timeout_s:.0f}s"
    if process.returncode != 0:
        _remove_tree(partial)
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        return lines[-1] if lines else f"exit {process.returncode}"
    partial.rename(target)
    return None


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def debian_files(package: str) -> list[Path] | None:
    """Source files a Debian package installed (from dpkg's file list), or None if absent."""
    lists = sorted(DPKG_INFO.glob(f"{package}.list")) + sorted(DPKG_INFO.glob(f"{package}:*.list"))
    if not lists:
        return None
    files = []
    for line in lists[0].read_text(errors="replace").splitlines():
        path = Path(line.strip())
        if language_of(path) is not None and path.is_file():
            files.append(path)
    return files


def _from_debian(library: Library, settings: IndexSettings, name: str,
                 tried: list[str]) -> SourceSet | None:
    files: list[Path] = []
    used = []
    for package in library.debian:
        found = debian_files(package)
        if found is None:
            continue
        used.append(package)
        files.extend(found)
    if not library.debian:
        tried.append("Debian does not package it")
    if not files:
        if library.debian:
            tried.append(f"Debian package {'/'.join(library.debian)} not installed")
        return None
    root = Path(os.path.commonpath([str(f.parent) for f in files]))
    return SourceSet(repository=name, root=root, files=sorted(set(files)),
                     origin=f"debian:{','.join(used)}", library=library)


def _from_prefixes(library: Library, settings: IndexSettings, name: str,
                   tried: list[str]) -> SourceSet | None:
    candidates = [Path(p).expanduser() for p in settings.spack_prefixes]
    for variable in (f"{library.name.upper().replace('-', '_')}_ROOT",
                     f"{library.title.replace(' ', '')}_ROOT", f"{library.name}_ROOT"):
        if os.environ.get(variable):
            candidates.append(Path(os.environ[variable]))
    for prefix in candidates:
        for install in _installs_under(prefix, library.spack or library.name):
            files = [f for sub in ("include", "share", "examples", "src") if (install / sub).is_dir()
                     for f in walk_sources(install / sub)]
            if files:
                return SourceSet(repository=name, root=install, files=sorted(files),
                                 origin=f"prefix:{install}", library=library)
    tried.append(f"no install prefix ({len(candidates)} configured)")
    return None


def _installs_under(prefix: Path, package: str) -> list[Path]:
    """``prefix`` itself if it has ``include/``, else Spack-style ``<package>-<version>-<hash>``
    folders up to three levels below it."""
    if (prefix / "include").is_dir() and not (prefix / "opt").is_dir():
        return [prefix]
    found = []
    for depth in ("*", "*/*", "*/*/*"):
        found += [p for p in prefix.glob(f"{depth}/{package}-[0-9]*") if p.is_dir()]
    return sorted(found)
