"""Detected compilers, launchers and libraries, and a build recipe per programming model."""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROGRAMMING_MODELS = ("serial", "openmp", "mpi", "mpi+openmp", "kokkos", "cuda")
_BASE_FLAGS = ("-std=c++17", "-O3")


@dataclass(frozen=True)
class KokkosInstall:
    """Where Kokkos headers and libraries live and which backends they were built with."""

    include_dir: str
    lib_dir: str
    core_library: str
    backends: tuple[str, ...]
    origin: str

    @property
    def has_openmp(self) -> bool:
        return "OpenMP" in self.backends


@dataclass(frozen=True)
class BuildRecipe:
    """How to compile and launch code for one programming model."""

    model: str
    compiler: str
    flags: tuple[str, ...]
    libraries: tuple[str, ...] = ()
    launcher: tuple[str, ...] = ()
    parallel_backend: str = "none"

    def compile_command(
        self,
        sources: list[str],
        output: str,
        defines: dict[str, str] | None = None,
        include_dirs: list[str] | None = None,
    ) -> list[str]:
        command = [self.compiler, *self.flags]
        command += [f"-I{d}" for d in include_dirs or []]
        command += [f"-D{k}={v}" for k, v in (defines or {}).items()]
        return command + [*sources, "-o", output, *self.libraries]

    def to_dict(self) -> dict:
        return asdict(self)

    def for_c(self) -> BuildRecipe | None:
        """The same recipe for a C translation unit, or None where the model has no C form
        (Kokkos, CUDA) or no C compiler sits beside the C++ one: gcc for g++, clang for
        clang++, cc for c++, mpicc for mpicxx; C17 with GNU extensions (``restrict``,
        ``__restrict__``) and libm, which a C link does not bring in by itself."""
        if self.model not in C_MODELS:
            return None
        compiler = c_compiler_beside(self.compiler)
        if compiler is None:
            return None
        flags = tuple("-std=gnu17" if flag.startswith("-std=") else flag for flag in self.flags)
        libraries = self.libraries if "-lm" in self.libraries else (*self.libraries, "-lm")
        return BuildRecipe(self.model, compiler, flags, libraries, self.launcher,
                           self.parallel_backend)


C_MODELS = ("serial", "openmp", "mpi", "mpi+openmp")
_C_NAMES = {"g++": "gcc", "clang++": "clang", "c++": "cc", "mpicxx": "mpicc", "mpic++": "mpicc",
            "mpiCC": "mpicc"}


def c_compiler_beside(cxx: str) -> str | None:
    """The C compiler of the same family and version as the C++ compiler ``cxx``
    (``/usr/bin/g++-12`` -> ``/usr/bin/gcc-12``), if it is installed."""
    path = Path(cxx)
    name, dash, version = path.name.partition("-")
    c_name = _C_NAMES.get(name)
    if c_name is None:
        return None
    candidate = c_name + dash + version
    found = (path.parent / candidate) if path.parent != Path(".") else None
    if found is not None and found.is_file() and os.access(found, os.X_OK):
        return str(found)
    return shutil.which(candidate)


@dataclass
class Toolchain:
    """What this machine can build with, found once per process."""

    cxx: str | None = None
    cxx_version: str = ""
    mpicxx: str | None = None
    mpirun: str | None = None
    nvcc: str | None = None
    nvcc_version: str = ""
    hipcc: str | None = None
    gpu_present: bool = False
    mpi_version: str = ""
    kokkos: KokkosInstall | None = None
    running_as_root: bool = False
    missing: dict[str, str] = field(default_factory=dict)
    extra_flags: tuple[str, ...] = ()
    extra_libraries: tuple[str, ...] = ()
    fortran: FortranCompilers | None = None

    def fortran_recipe(self, model: str) -> BuildRecipe:
        """The Fortran build recipe for ``model`` (serial, openmp, mpi); ToolchainMissing
        with the install hint when no Fortran compiler (or MPI wrapper) is found."""
        found = self.fortran or FortranCompilers()
        return found.recipe(model, self.mpirun, self.running_as_root)

    def recipe(self, model: str) -> BuildRecipe:
        """The build recipe for ``model`` with the user's extra flags; raises
        ``ToolchainMissing`` with the install hint."""
        base = self._base_recipe(model)
        if not (self.extra_flags or self.extra_libraries):
            return base
        return BuildRecipe(
            base.model,
            base.compiler,
            (*base.flags, *self.extra_flags),
            (*base.libraries, *self.extra_libraries),
            base.launcher,
            base.parallel_backend,
        )

    def _base_recipe(self, model: str) -> BuildRecipe:
        if model not in PROGRAMMING_MODELS:
            raise ToolchainMissing(
                f"unknown programming model {model!r}: choose one of "
                f"{', '.join(PROGRAMMING_MODELS)}"
            )
        if self.cxx is None:
            raise ToolchainMissing(self.missing["c++"])
        if model == "serial":
            return BuildRecipe("serial", self.cxx, _BASE_FLAGS)
        if model == "openmp":
            return BuildRecipe(
                "openmp", self.cxx, (*_BASE_FLAGS, "-fopenmp"), parallel_backend="OpenMP"
            )
        if model in ("mpi", "mpi+openmp"):
            if not (self.mpicxx and self.mpirun):
                raise ToolchainMissing(self.missing["mpi"])
            launcher = [self.mpirun, "--oversubscribe"]
            if self.running_as_root:
                launcher.append("--allow-run-as-root")
            hybrid = model == "mpi+openmp"
            flags = (*_BASE_FLAGS, "-DELLORA_WITH_MPI", *(("-fopenmp",) if hybrid else ()))
            return BuildRecipe(
                model,
                self.mpicxx,
                flags,
                launcher=tuple(launcher),
                parallel_backend="MPI+OpenMP" if hybrid else "MPI",
            )
        if model == "cuda":
            if self.nvcc is None:
                raise ToolchainMissing(self.missing["cuda"])
            return BuildRecipe("cuda", self.nvcc, ("-std=c++17", "-O3"), parallel_backend="CUDA")
        return self._kokkos_recipe()

    def mpi_launch(self, ranks: int) -> list[str]:
        """The launcher prefix for ``ranks`` MPI ranks (as root: --allow-run-as-root)."""
        recipe = self.recipe("mpi")
        return [*recipe.launcher, "-np", str(ranks)]

    def _kokkos_recipe(self) -> BuildRecipe:
        kokkos = self.kokkos
        if kokkos is None:
            raise ToolchainMissing(self.missing["kokkos"])
        flags = [*_BASE_FLAGS, f"-I{kokkos.include_dir}", "-DELLORA_WITH_KOKKOS"]
        if kokkos.has_openmp:
            flags.append("-fopenmp")
        libraries = (
            f"-L{kokkos.lib_dir}",
            f"-Wl,-rpath,{kokkos.lib_dir}",
            f"-l{kokkos.core_library}",
            "-ldl",
        )
        backend = "OpenMP" if kokkos.has_openmp else "Serial"
        return BuildRecipe("kokkos", self.cxx, tuple(flags), libraries, parallel_backend=backend)

    def summary(self) -> dict:
        return {
            "c++": f"{self.cxx} ({self.cxx_version})" if self.cxx else None,
            "mpi": f"{self.mpicxx}, {self.mpirun}" if self.mpicxx else None,
            "kokkos": asdict(self.kokkos) if self.kokkos else None,
            "mpi_version": self.mpi_version or None,
            "nvcc": f"{self.nvcc} ({self.nvcc_version})" if self.nvcc else None,
            "cuda_can_run": self.gpu_present,
            "hipcc": self.hipcc,
            "fortran": asdict(self.fortran) if self.fortran else None,
            "missing": self.missing,
        }


class ToolchainMissing(RuntimeError):
    """A compiler or library needed for the task is not installed; the message says how."""


FORTRAN_MODELS = ("serial", "openmp", "mpi")
_FORTRAN_FLAGS = ("-O3",)
FORTRAN_HINT = "no Fortran compiler: apt-get install gfortran (or install flang)"
MPI_FORTRAN_HINT = "no MPI Fortran wrapper: apt-get install openmpi-bin libopenmpi-dev gfortran"


@dataclass(frozen=True)
class FortranCompilers:
    """The Fortran compilers found: gfortran (preferred) or flang, and the MPI wrapper."""

    fc: str | None = None
    fc_version: str = ""
    mpifort: str | None = None
    flang: str | None = None
    flang_version: str = ""

    def recipe(self, model: str, mpirun: str | None, as_root: bool = False) -> BuildRecipe:
        if model not in FORTRAN_MODELS:
            raise ToolchainMissing(f"Fortran code is built for {', '.join(FORTRAN_MODELS)}; "
                                   f"{model!r} has no Fortran recipe")
        compiler = self.fc or self.flang
        if compiler is None:
            raise ToolchainMissing(FORTRAN_HINT)
        if model == "serial":
            return BuildRecipe("serial", compiler, _FORTRAN_FLAGS)
        if model == "openmp":
            return BuildRecipe("openmp", compiler, (*_FORTRAN_FLAGS, "-fopenmp"),
                               parallel_backend="OpenMP")
        if not (self.mpifort and mpirun):
            raise ToolchainMissing(MPI_FORTRAN_HINT)
        launcher = [mpirun, "--oversubscribe"] + (["--allow-run-as-root"] if as_root else [])
        return BuildRecipe("mpi", self.mpifort, (*_FORTRAN_FLAGS, "-DELLORA_WITH_MPI"),
                           launcher=tuple(launcher), parallel_backend="MPI")


def find_fortran() -> FortranCompilers:
    """gfortran, flang (flang-new) and the MPI Fortran wrapper on the PATH (no versions)."""
    return FortranCompilers(
        fc=shutil.which("gfortran"),
        mpifort=shutil.which("mpifort") or shutil.which("mpif90"),
        flang=shutil.which("flang-new") or shutil.which("flang"),
    )


_KOKKOS_HINT = (
    "Kokkos not found: apt-get install libtrilinos-kokkos-dev, or set "
    "toolchain.kokkos_prefix to a Kokkos install (Spack or CMake prefix)"
)


def _kokkos_backends(config_header: Path) -> tuple[str, ...]:
    text = config_header.read_text(errors="replace")
    names = {
        "SERIAL": "Serial",
        "OPENMP": "OpenMP",
        "THREADS": "Threads",
        "CUDA": "Cuda",
        "HIP": "HIP",
    }
    return tuple(
        label
        for key, label in names.items()
        if re.search(rf"^#define KOKKOS_ENABLE_{key}\b", text, re.MULTILINE)
    )


def find_kokkos(prefixes: list[str]) -> KokkosInstall | None:
    """Look for Kokkos in the given prefixes, then in Debian's Trilinos packages."""
    for prefix in prefixes:
        root = Path(prefix).expanduser()
        header = root / "include" / "KokkosCore_config.h"
        for lib_dir in (root / "lib", root / "lib64"):
            if header.is_file() and any(lib_dir.glob("libkokkoscore.*")):
                return KokkosInstall(
                    str(root / "include"),
                    str(lib_dir),
                    "kokkoscore",
                    _kokkos_backends(header),
                    f"prefix {root}",
                )
    debian_header = Path("/usr/include/trilinos/KokkosCore_config.h")
    lib_dirs = [
        Path("/usr/lib/x86_64-linux-gnu"),
        Path("/usr/lib/aarch64-linux-gnu"),
        Path("/usr/lib"),
    ]
    for lib_dir in lib_dirs:
        if debian_header.is_file() and any(lib_dir.glob("libtrilinos_kokkoscore.so*")):
            return KokkosInstall(
                "/usr/include/trilinos",
                str(lib_dir),
                "trilinos_kokkoscore",
                _kokkos_backends(debian_header),
                "Debian libtrilinos-kokkos-dev",
            )
    return None


def default_kokkos_prefixes(configured: str | None = None) -> list[str]:
    data_home = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local/share"))
    prefixes = [configured] if configured else []
    if os.environ.get("Kokkos_ROOT"):
        prefixes.append(os.environ["Kokkos_ROOT"])
    prefixes.append(str(Path(sys.prefix) / "opt" / "kokkos"))  # built by the installer
    prefixes.append(str(data_home / "ellora" / "kokkos"))
    return prefixes


def _version(sandbox, workspace: Path, program: str, last_line: bool = False) -> str:
    from ellora.sandbox import Limits

    result = sandbox.run([program, "--version"], workspace, Limits(wall_s=20))
    lines = [line.strip() for line in (result.stdout or result.stderr).splitlines() if line.strip()]
    if not result.ok or not lines:
        return ""
    return lines[-1] if last_line else lines[0]


def detect_toolchain(sandbox, kokkos_prefix: str | None = None, settings=None) -> Toolchain:
    """Find compilers, MPI, Kokkos and CUDA on this machine (versions asked in the sandbox);
    ``settings`` (ToolchainSettings) adds the user's compiler and flags."""
    chain = Toolchain(running_as_root=os.geteuid() == 0)
    chain.cxx = shutil.which("g++") or shutil.which("clang++")
    if settings is not None:
        kokkos_prefix = kokkos_prefix or settings.kokkos_prefix
        chain.extra_flags = tuple(settings.extra_flags)
        chain.extra_libraries = tuple(settings.extra_libraries)
        if settings.cxx:
            chain.cxx = shutil.which(settings.cxx)
            if chain.cxx is None:
                raise ToolchainMissing(
                    f"compiler {settings.cxx!r} (toolchain.cxx) not found: "
                    "install it or fix the setting"
                )
    chain.mpicxx, chain.mpirun = shutil.which("mpicxx"), shutil.which("mpirun")
    chain.nvcc = shutil.which("nvcc")
    chain.hipcc = shutil.which("hipcc")
    chain.gpu_present = Path("/dev/nvidia0").exists() or Path("/dev/kfd").exists()
    chain.kokkos = find_kokkos(default_kokkos_prefixes(kokkos_prefix))
    fortran = find_fortran()
    workspace = sandbox.new_workspace("probe-")
    try:
        if fortran.fc or fortran.flang:
            fortran = FortranCompilers(
                fortran.fc, _version(sandbox, workspace, fortran.fc) if fortran.fc else "",
                fortran.mpifort, fortran.flang,
                _version(sandbox, workspace, fortran.flang) if fortran.flang else "")
        chain.fortran = fortran
        if chain.cxx:
            chain.cxx_version = _version(sandbox, workspace, chain.cxx)
        if chain.mpirun:
            chain.mpi_version = _version(sandbox, workspace, chain.mpirun)
        if chain.nvcc:
            chain.nvcc_version = _version(sandbox, workspace, chain.nvcc, last_line=True)
    finally:
        sandbox.discard_workspace(workspace)
    if not chain.cxx:
        chain.missing["c++"] = "no C++ compiler: apt-get install g++"
    if not (chain.mpicxx and chain.mpirun):
        chain.missing["mpi"] = "MPI not found: apt-get install openmpi-bin libopenmpi-dev"
    if chain.kokkos is None:
        chain.missing["kokkos"] = _KOKKOS_HINT
    if chain.nvcc is None:
        chain.missing["cuda"] = "nvcc not found: install the CUDA toolkit for CUDA builds"
    if not (fortran.fc or fortran.flang):
        chain.missing["fortran"] = FORTRAN_HINT
    elif fortran.mpifort is None:
        chain.missing["mpi-fortran"] = MPI_FORTRAN_HINT
    return chain
