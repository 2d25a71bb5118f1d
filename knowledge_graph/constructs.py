"""HPC constructs (Kokkos, OpenMP, MPI, CUDA/HIP) recognised in parsed code.

The tables live in ``data/constructs.toml``; a construct becomes an API node of the graph
(``api:Kokkos::parallel_reduce``, ``api:omp parallel for``, ``api:MPI_Allreduce``) that every
definition using it points to with a ``uses_api`` edge.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

OMP_CLAUSES = {"reduction", "private", "firstprivate", "lastprivate", "shared", "schedule",
               "collapse", "num_threads", "map", "nowait", "default", "if",
               "depend", "num_teams", "thread_limit", "linear", "aligned", "copyin", "ordered"}
_PRAGMA_WORD = re.compile(r"[A-Za-z_]+")


@dataclass(frozen=True)
class ConstructTables:
    """Names that mark a construct, per family."""

    kokkos_calls: frozenset[str]
    kokkos_types: frozenset[str]
    kokkos_qualified_only: frozenset[str]
    prefixes: tuple[tuple[str, str], ...]  # (prefix, family)


@lru_cache(maxsize=1)
def tables() -> ConstructTables:
    """The construct tables from ``data/constructs.toml``."""
    text = resources.files("ellora.knowledge_graph").joinpath("data/constructs.toml").read_text()
    data = tomllib.loads(text)
    kokkos = data["kokkos"]
    prefixes = tuple((prefix, family) for family, entry in data.items()
                     for prefix in entry.get("call_prefixes", ()))
    return ConstructTables(frozenset(kokkos["calls"]), frozenset(kokkos["types"]),
                           frozenset(kokkos.get("qualified_only", ())), prefixes)


def call_construct(qualified: str, name: str) -> str | None:
    """The construct a call names (``Kokkos::parallel_for``, ``MPI_Send``, ``cudaMalloc``)."""
    t = tables()
    if name in t.kokkos_calls or (name in t.kokkos_qualified_only and "Kokkos::" in qualified):
        return f"Kokkos::{name}"
    if name in t.kokkos_types and "Kokkos::" in qualified:
        return f"Kokkos::{name}"
    for prefix, _family in t.prefixes:
        if (name.startswith(prefix) and len(name) > len(prefix)
                and (prefix.endswith("_") or name[len(prefix)].isupper())):
            return name
    return None


def type_construct(name: str) -> str | None:
    """The construct a used type names (``Kokkos::View``), or None."""
    if name in tables().kokkos_types:
        return f"Kokkos::{name}"
    return None


def pragma_constructs(text: str) -> list[str]:
    """Constructs of an OpenMP/OpenACC directive: ``omp parallel for`` plus ``omp reduction``
    for each clause; ``text`` is what follows ``#pragma`` (or a Fortran ``!$omp`` comment)."""
    words = _PRAGMA_WORD.findall(text.lower())
    if not words or words[0] not in ("omp", "acc"):
        return []
    family = words[0]
    directive = []
    for word in words[1:]:
        if word in OMP_CLAUSES and directive:
            break
        directive.append(word)
        if len(directive) == 5:
            break
    found = [" ".join([family, *directive]) if directive else family]
    clauses = sorted({w for w in words[1 + len(directive):] if w in OMP_CLAUSES})
    found += [f"{family} {clause}" for clause in clauses]
    return found


def family_of(construct: str) -> str:
    """The programming model a construct belongs to."""
    if construct.startswith("Kokkos::"):
        return "kokkos"
    if construct.startswith("omp"):
        return "openmp"
    if construct.startswith("acc"):
        return "openacc"
    if construct.startswith("MPI_"):
        return "mpi"
    if construct.startswith("hip"):
        return "hip"
    return "cuda"
