"""Building Fortran variants for the differential test and the profiler.

A Fortran source is tested the ways a C++ one is (:mod:`ellora.tools.verify`): with a
shipped harness (``<stem>.harness.f90``, a program using :mod:`ellora_harness`), as a whole
program (stdout compared), or only compiled. The harness module is staged as
``ellora_harness.F90`` so that it is preprocessed (MPI builds define ``ELLORA_WITH_MPI``)
while the user's ``.f90`` is compiled as written. Each variant's modules go to their own
folder (``-J``), so original and candidate never read each other's ``.mod`` files.

The agent's nodes ask the toolchain for the recipe of a programming model; for a Fortran
source the same model is built with the Fortran compiler (:func:`fortran_recipe_for`).
"""

from __future__ import annotations

import re
import shutil
from functools import lru_cache
from pathlib import Path

from ellora.tools.toolchain import BuildRecipe, FortranCompilers, find_fortran

HARNESS_MODULE = Path(__file__).parent / "harness" / "ellora_harness.f90"
STAGED_MODULE = "ellora_harness.F90"
HARNESS_SUFFIXES = (".harness.f90", ".harness.F90")
_PROGRAM = re.compile(r"^\s*program\s+\w+", re.IGNORECASE | re.MULTILINE)


def is_fortran(file_name: str) -> bool:
    """Whether ``file_name`` is a Fortran source (by suffix, any case)."""
    from ellora.tools.loops.region import language_of

    return language_of(file_name) == "fortran"


def has_main_program(source: str) -> bool:
    return _PROGRAM.search(source) is not None


@lru_cache(maxsize=1)
def _compilers() -> FortranCompilers:
    return find_fortran()


def fortran_recipe_for(recipe: BuildRecipe) -> BuildRecipe:
    """The Fortran recipe for the programming model of ``recipe`` (its launcher kept);
    ToolchainMissing says what to install."""
    if recipe.compiler in (_compilers().fc, _compilers().flang, _compilers().mpifort):
        return recipe
    launcher = recipe.launcher[0] if recipe.launcher else shutil.which("mpirun")
    fortran = _compilers().recipe(recipe.model, launcher)
    if recipe.launcher:
        fortran = BuildRecipe(fortran.model, fortran.compiler, fortran.flags,
                              fortran.libraries, recipe.launcher, fortran.parallel_backend)
    return fortran


def stage(workspace: Path, harness: str | None) -> None:
    """The harness module and program under the names the build uses, and one module
    folder per variant."""
    shutil.copy(HARNESS_MODULE, workspace / STAGED_MODULE)
    if harness:
        staged = workspace / "harness.cpp"
        if staged.exists():
            staged.unlink()
        shutil.copy(harness, workspace / "harness.f90")
    for variant in ("original", "candidate"):
        (workspace / f"{variant}.mods").mkdir(exist_ok=True)


def build_command(recipe: BuildRecipe, mode: str, variant: str, source: str) -> list[str]:
    """The compile command of one variant: harness module, the variant, the harness
    program (harness mode); the program alone; or an object file (compile-only)."""
    recipe = fortran_recipe_for(recipe)
    modules = ["-J", f"{variant}.mods"]
    command = [recipe.compiler, *recipe.flags, *modules]
    if mode == "harness":
        return [*command, STAGED_MODULE, source, "harness.f90", "-o", variant,
                *recipe.libraries]
    if mode == "program":
        return [*command, source, "-o", variant, *recipe.libraries]
    return [*command, "-c", source, "-o", f"{variant}.o"]


def find_harness(source: Path) -> Path | None:
    """``<stem>.harness.f90`` next to a Fortran source, if any."""
    for suffix in HARNESS_SUFFIXES:
        candidate = source.with_name(source.stem + suffix)
        if candidate.is_file():
            return candidate
    return None
