"""Emitters: one per target, each lowering a parallel verdict to an :class:`Emission`
(the loop's replacement text, the includes and helpers it needs, an explanation rendered
from the verdict). :func:`apply_emissions` writes several into one source."""

from __future__ import annotations

import re

from ellora.tools.loops.emit.common import Emission, NotEmittable
from ellora.tools.loops.legality.verdict import Verdict

TARGETS = ("openmp", "kokkos", "mpi")

__all__ = ["TARGETS", "Emission", "NotEmittable", "apply_emissions", "emit"]


def emit(verdict: Verdict, target: str, if_convert: bool = False,
         mpi_root: bool = False) -> Emission:
    """The target's lowering of a parallel verdict; NotEmittable when it has none.
    ``if_convert``: conditional stores to owned elements become selects (a variant the
    optimize round measures)."""
    if not verdict.parallel:
        raise NotEmittable(f"not parallel: {verdict.dependence}")
    if verdict.appends:  # every target builds per-block lists and joins them in order
        from ellora.tools.loops.emit.appends import emit_appends

        return emit_appends(verdict, target, mpi_root)
    if verdict.loop.function.language == "fortran":
        from ellora.tools.loops.emit.fortran import emit_fortran

        return emit_fortran(verdict, target)
    if target == "openmp":
        from ellora.tools.loops.emit.openmp import emit_openmp

        return emit_openmp(verdict, if_convert)
    if target == "kokkos":
        from ellora.tools.loops.emit.kokkos import emit_kokkos

        return emit_kokkos(verdict, if_convert)
    if target == "mpi":
        from ellora.tools.loops.emit.mpi import emit_mpi

        return emit_mpi(verdict, mpi_root)
    raise NotEmittable(f"no transformation for the target {target}")


def apply_emissions(source: str, emissions: list[Emission], target: str) -> str:
    """The source with every emission's span replaced (they must not overlap), then the
    includes, helpers and (for Kokkos) the include and initialization they need."""
    if any(getattr(e, "language", "cpp") == "fortran" for e in emissions):
        from ellora.tools.loops.emit.fortran import apply_fortran

        return apply_fortran(source, emissions, target)
    from ellora.tools.loops.emit.checks import APART_HELPER, APART_HELPER_C, CHECK_INCLUDES
    from ellora.tools.loops.text import after_includes, ensure_include

    data = source.encode()
    for emission in sorted(emissions, key=lambda e: e.start, reverse=True):
        data = data[: emission.start] + emission.code.encode() + data[emission.end:]
    result = data.decode()
    includes: list[str] = []
    helpers: list[str] = []
    for emission in emissions:
        includes += [i for i in emission.includes if i not in includes]
        helpers += [h for h in emission.helpers if h not in helpers]
        if (emission.apart_helper or APART_HELPER in emission.helpers) and \
                APART_HELPER not in helpers:
            helpers.append(APART_HELPER)
            includes += [i for i in CHECK_INCLUDES if i not in includes]
        if "typedef long long ellora_ll;" in emission.code and \
                APART_HELPER_C not in emission.helpers:  # a run-time range test, in C++
            includes += [i for i in CHECK_INCLUDES if i not in includes]
    if target == "openmp" and any("omp_get" in e.code for e in emissions):
        includes.append("omp.h")
    for header in includes:
        result = ensure_include(result, header)
    for helper in helpers:
        if helper not in result:
            result = after_includes(result, "\n" + helper)
    if target == "kokkos" or any(e.kokkos for e in emissions):
        result = ensure_kokkos_initialized(ensure_include(result, "Kokkos_Core.hpp"))
    return result


def ensure_kokkos_initialized(source: str) -> str:
    """A program with ``main`` gets a ``Kokkos::ScopeGuard`` at its start (if it has none)."""
    if re.search(r"Kokkos::(initialize|ScopeGuard)", source):
        return source
    match = re.search(r"\bint\s+main\s*\(([^)]*)\)\s*\{", source)
    if match is None:
        return source
    params = [p.strip() for p in match.group(1).split(",") if p.strip() and p.strip() != "void"]
    if len(params) == 2:
        argc = re.findall(r"\w+", params[0])[-1]
        argv = re.findall(r"\w+", params[1].replace("[]", ""))[-1]
        guard = f"\n  Kokkos::ScopeGuard ellora_kokkos_scope({argc}, {argv});"
    else:
        guard = "\n  Kokkos::ScopeGuard ellora_kokkos_scope;"
    return source[: match.end()] + guard + source[match.end():]
