"""Programming models as the evals name them, and how to build and launch each one.

Canonical names: serial, openmp, mpi, mpi+openmp, kokkos, cuda. ParEval's spellings
(omp, mpi+omp) are accepted everywhere a name is read. A resource count is threads (OpenMP,
Kokkos), ranks (MPI) or "RxT" (ranks x threads); ``resource_total`` gives n for
efficiency_n@k.
"""

from __future__ import annotations

from ellora.tools.toolchain import BuildRecipe, Toolchain

MODELS = ("serial", "openmp", "mpi", "mpi+openmp", "kokkos", "cuda")
# translation sources that are not targets: serial Fortran, ported to FORTRAN_TARGETS in Fortran
SOURCE_LANGUAGES = ("fortran",)
FORTRAN_TARGETS = ("openmp", "mpi")
ALIASES = {"omp": "openmp", "mpi+omp": "mpi+openmp", "mpi_omp": "mpi+openmp", "seq": "serial",
           "sequential": "serial"}
PAREVAL_NAMES = {"serial": "serial", "openmp": "omp", "mpi": "mpi", "mpi+openmp": "mpi+omp",
                 "kokkos": "kokkos", "cuda": "cuda"}
DISPLAY = {"serial": "serial C++", "openmp": "OpenMP", "mpi": "MPI", "mpi+openmp": "MPI+OpenMP",
           "kokkos": "Kokkos", "cuda": "CUDA", "fortran": "serial Fortran"}
# what a prompt says about parallelism, after the problem's description
PROMPT_HINTS = {
    "serial": "",
    "openmp": "Use OpenMP to compute in parallel.",
    "mpi": "Use MPI to compute in parallel. Assume MPI has already been initialized. Every "
           "rank has a complete copy of the inputs. The result must be correct on rank 0.",
    "mpi+openmp": "Use MPI and OpenMP to compute in parallel. Assume MPI has already been "
                  "initialized. Every rank has a complete copy of the inputs. The result must "
                  "be correct on rank 0.",
    "kokkos": "Use Kokkos to compute in parallel. Assume Kokkos has already been initialized.",
    "cuda": "Use CUDA to compute in parallel: copy the inputs to the GPU, launch kernels and "
            "copy the results back.",
}
PROMPT_INCLUDES = {"openmp": "#include <omp.h>", "mpi": "#include <mpi.h>",
                   "mpi+openmp": "#include <mpi.h>\n#include <omp.h>",
                   "kokkos": "#include <Kokkos_Core.hpp>", "cuda": "#include <cuda_runtime.h>"}


# a candidate "uses" its programming model when it contains one of these
MARKERS = {"openmp": ("#pragma omp", "omp_", "!$omp", "!$OMP"), "kokkos": ("Kokkos::",),
           "mpi": ("MPI_",),
           "cuda": ("__global__", "<<<", "thrust::", "cublas")}


def uses_model(code: str | None, model: str) -> bool:
    """Whether ``code`` uses ``model`` at all (serial code handed back does not)."""
    if not code:
        return False
    if model == "serial":
        return True
    parts = ("mpi", "openmp") if model == "mpi+openmp" else (model,)
    return all(any(marker in code for marker in MARKERS[part]) for part in parts)


def canonical(name: str) -> str:
    """The canonical name of a programming model; raises ValueError for an unknown one."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in MODELS and key not in SOURCE_LANGUAGES:
        raise ValueError(f"unknown programming model {name!r}: choose from {', '.join(MODELS)} "
                         "(or omp, mpi+omp; fortran as a translation source)")
    return key


def source_language(source: str | None) -> str:
    """``fortran`` for Fortran translation sources, else ``cpp``."""
    return "fortran" if source == "fortran" else "cpp"


def parse_models(text: str) -> list[str]:
    """``"omp,mpi, kokkos"`` -> ``["openmp", "mpi", "kokkos"]``."""
    return [canonical(part) for part in text.split(",") if part.strip()]


def resource_total(resource: str) -> int:
    """n for a resource key: "4" -> 4, "2x2" -> 4."""
    total = 1
    for part in str(resource).split("x"):
        total *= int(part)
    return total


def split_resource(resource: str) -> tuple[int, int]:
    """(ranks, threads) for a resource key of a given model kind."""
    parts = [int(p) for p in str(resource).split("x")]
    return (parts[0], parts[1]) if len(parts) == 2 else (1, parts[0])


def recipe_for(model: str, toolchain: Toolchain) -> BuildRecipe:
    """The build recipe for a programming model; ToolchainMissing says what to install."""
    return toolchain.recipe(model)


def source_suffix(model: str) -> str:
    """The file suffix a harness or candidate needs for ``model`` (nvcc wants .cu)."""
    return ".cu" if model == "cuda" else ".cpp"


def launch_command(recipe: BuildRecipe, model: str, binary: str, resource: str,
                   args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run ``binary`` with ``resource``."""
    ranks, threads = split_resource(resource)
    if model == "mpi":
        ranks, threads = threads, 1  # a plain MPI resource key counts ranks
    env = {"OMP_NUM_THREADS": str(threads), "OMP_PROC_BIND": "false"}
    if model in ("mpi", "mpi+openmp"):
        return [*recipe.launcher, "-np", str(ranks), "--bind-to", "none", f"./{binary}",
                *args], env
    return [f"./{binary}", *args], env
