"""Where the engine data set's loops come from: the C/C++ sources of E4S libraries, taken
from Debian's source packages (none of them is in an eval suite).

``apt-get source --download-only`` runs with a private ``APT_CONFIG`` (its own deb-src list,
package lists and cache in a work folder), the technique ``.ci/install`` uses for Kokkos, so
the system's apt state is left alone. The upstream tarball is unpacked, keeping only the C
and C++ files under each package's source folders. Licences come from the knowledge graph's
E4S manifest (``knowledge_graph/data/e4s.toml``), looked up by library name.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx")
DEFAULT_MIRROR = "http://deb.debian.org/debian"


@dataclass(frozen=True)
class SourcePackage:
    """A Debian source package, the E4S library it is, and which of its folders to read."""

    debian: str
    library: str
    folders: tuple[str, ...]  # paths inside the upstream tree; "" is the whole tree
    skip: tuple[str, ...] = ()  # path parts that leave a file out (tests, bindings, ...)


# The libraries of the E4S manifest whose Debian sources are C or C++ with numeric loops.
# Trilinos (packages/kokkos) is left out: templated headers whose loops need their classes.
PACKAGES: tuple[SourcePackage, ...] = (
    SourcePackage("hypre", "hypre", ("src",), ("examples", "test", "docs", "FEI_mv")),
    SourcePackage("sundials", "sundials", ("src",), ("fmod", "sunmatrix/cusparse",
                                                     "sunmatrix/magma", "sundials/sundials_hip")),
    SourcePackage("superlu", "superlu", ("SRC", "CBLAS"), ()),
    SourcePackage("superlu-dist", "superlu-dist", ("SRC",), ("cuda", "hip")),
    SourcePackage("petsc", "petsc", ("src",), ("tests", "tutorials", "ftn-custom", "binding",
                                               "cuda", "hip", "kokkos", "sycl", "viennacl")),
    SourcePackage("slepc", "slepc", ("src",), ("tests", "tutorials", "ftn-custom", "cuda")),
)


class SourceError(RuntimeError):
    """A source package could not be fetched or unpacked; the message says which and why."""


@dataclass(frozen=True)
class FetchedPackage:
    """An unpacked source package: where its files are, its version and licence."""

    package: SourcePackage
    version: str
    root: Path
    license: str

    def files(self) -> list[Path]:
        """The C/C++ files of the package's folders, sorted, minus the skipped parts."""
        found = []
        for folder in self.package.folders:
            base = self.root / folder if folder else self.root
            for path in sorted(base.rglob("*")):
                relative = path.relative_to(self.root).as_posix()
                if path.suffix in SOURCE_SUFFIXES and path.is_file() and not any(
                        part in relative for part in self.package.skip):
                    found.append(path)
        return found

    def relative(self, path: Path) -> str:
        """``path`` as the package's own path (``src/seq_mv/vector.c``)."""
        return path.relative_to(self.root).as_posix()


def licence_of(library: str) -> str:
    """The SPDX licence of ``library`` in the E4S manifest."""
    from ellora.knowledge_graph.manifest import find_library

    entry = find_library(library)
    if entry is None:
        raise SourceError(f"library {library!r} is not in knowledge_graph/data/e4s.toml")
    return entry.license


def apt_workspace(work: Path, mirror: str | None = None) -> Path:
    """A private apt configuration under ``work`` with only a deb-src line; returns its
    ``apt.conf`` (pass it as ``APT_CONFIG``)."""
    for sub in ("lists/partial", "cache/archives/partial", "parts"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    codename = _codename()
    (work / "sources.list").write_text(f"deb-src {mirror or system_mirror()} {codename} main\n")
    conf = work / "apt.conf"
    conf.write_text(f'Dir::Etc::SourceList "{work}/sources.list";\n'
                    f'Dir::Etc::SourceParts "{work}/parts";\n'
                    f'Dir::State::Lists "{work}/lists";\n'
                    f'Dir::Cache "{work}/cache";\n')
    return conf


def system_mirror() -> str:
    """The system's Debian mirror (not the security one), else deb.debian.org."""
    pattern = re.compile(r"https?://\S*debian/?")
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in files:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith(("URIs:", "deb ")):
                for url in pattern.findall(line):
                    if "security" not in url:
                        return url.rstrip("/")
    return DEFAULT_MIRROR


def _codename() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"') or "bookworm"
    except OSError:
        pass
    return "bookworm"


def _apt(conf: Path, args: list[str], cwd: Path, timeout: float = 1800) -> str:
    if shutil.which("apt-get") is None:
        raise SourceError("apt-get not found: the engine data set reads Debian source packages "
                          "(run on Debian or Ubuntu, or pass --sources DIR with unpacked trees)")
    result = subprocess.run(["apt-get", *args], cwd=cwd, env={"APT_CONFIG": str(conf),
                            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                            capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise SourceError(f"apt-get {' '.join(args)} failed: {' / '.join(tail)}")
    return result.stdout


def fetch_packages(work: Path, packages: tuple[SourcePackage, ...] = PACKAGES,
                   mirror: str | None = None, log=print
                   ) -> tuple[list[FetchedPackage], dict[str, str]]:
    """Download (once) and unpack each package's upstream tarball under ``work``; a package
    already unpacked there is reused. Returns the packages fetched and, for each one that
    could not be, the reason (a mirror without the file, no apt-get)."""
    work = Path(work)
    conf = apt_workspace(work / "apt", mirror)
    updated = False
    fetched, failed = [], {}
    for package in packages:
        target = work / "src" / package.debian
        stamp = target / ".ellora-version"
        try:
            if not stamp.is_file():
                if not updated:
                    log("apt-get update (private deb-src list)")
                    _apt(conf, ["update", "-q"], work)
                    updated = True
                download = work / "download" / package.debian
                download.mkdir(parents=True, exist_ok=True)
                log(f"apt-get source --download-only {package.debian}")
                _apt(conf, ["source", "--download-only", "-q", package.debian], download)
                stamp.write_text(_unpack(download, target, package))
        except (SourceError, OSError, tarfile.TarError, subprocess.TimeoutExpired) as error:
            log(f"skipped {package.debian}: {error}")
            failed[package.debian] = str(error)
            continue
        fetched.append(FetchedPackage(package, stamp.read_text().strip(), target,
                                      licence_of(package.library)))
    return fetched, failed


def _unpack(download: Path, target: Path, package: SourcePackage) -> str:
    """Unpack the ``.orig`` tarball's source folders into ``target``; returns the version
    (from the ``.dsc``)."""
    tarballs = sorted(download.glob(f"{package.debian}_*.orig.tar.*"))
    dscs = sorted(download.glob(f"{package.debian}_*.dsc"))
    if not tarballs or not dscs:
        raise SourceError(f"no .orig tarball or .dsc for {package.debian} in {download}")
    version = dscs[-1].name[len(package.debian) + 1:-len(".dsc")]
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with tarfile.open(tarballs[-1]) as archive:
        for member in archive.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) < 2 or not member.isfile():
                continue
            inner = parts[1]
            wanted = any(inner.startswith(f + "/") or not f for f in package.folders)
            if wanted and Path(inner).suffix in SOURCE_SUFFIXES + (".h", ".hpp"):
                member.name = inner
                archive.extract(member, target, filter="data")
    return version


def local_sources(folders: list[Path], license: str = "unknown") -> list[FetchedPackage]:
    """Folders of C/C++ code used as they are (``--sources``), each its own library."""
    found = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise SourceError(f"source folder {folder} not found: give a folder of C/C++ files")
        name = folder.resolve().name
        found.append(FetchedPackage(SourcePackage(name, name, ("",)), "local", folder.resolve(),
                                    license))
    return found
