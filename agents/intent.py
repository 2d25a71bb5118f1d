"""What a task asks for: the programming model to write, and why that one.

One reader for every entry point (``ellora-agent``, the language server, the eval agent mode),
run before anything is built or loaded. A model the task names as its target but Ellora cannot
write (SYCL, CUDA, HIP, OpenACC, ...) is a :class:`UnsupportedTarget` error naming the ones it
can; a task that names none gets OpenMP, and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUPPORTED = {"openmp": "OpenMP", "kokkos": "Kokkos", "mpi": "MPI"}
DEFAULT = "openmp"
# words (lower case, punctuation stripped) -> the programming model they name
_WORDS = {
    "openmp": "openmp", "omp": "openmp", "kokkos": "kokkos", "mpi": "mpi",
    "cuda": "CUDA", "hip": "HIP", "rocm": "HIP", "sycl": "SYCL", "dpc++": "SYCL",
    "oneapi": "SYCL", "openacc": "OpenACC", "opencl": "OpenCL",
    "raja": "RAJA", "tbb": "TBB", "pthreads": "pthreads", "pthread": "pthreads",
    "thrust": "Thrust", "stdpar": "C++ stdpar", "openshmem": "OpenSHMEM", "upc++": "UPC++",
    "charm++": "Charm++", "hpx": "HPX", "legion": "Legion", "chapel": "Chapel",
}
_TOWARD = ("to", "into", "with", "using", "in", "via")  # "... to Kokkos": the target
_AWAY = ("from",)  # "... from CUDA": the source, never the target
SUPPORTED_TEXT = "OpenMP, Kokkos or MPI"


class UnsupportedTarget(ValueError):
    """The task names a programming model Ellora cannot write."""


@dataclass(frozen=True)
class Intent:
    """The target model (openmp | kokkos | mpi) and why it was chosen, in words;
    ``result_on_root``: the task says the result is needed on rank 0 only (MPI)."""

    target: str
    reason: str
    result_on_root: bool = False


_ROOT_ONLY = re.compile(r"\b(?:on|to|at) rank 0\b|\brank 0 (?:only|alone|holds|keeps)\b"
                        r"|\bonly (?:on )?rank 0\b|\bon the root(?: rank)?\b", re.IGNORECASE)


def result_on_root(task: str) -> bool:
    """Whether the task asks for the result on rank 0 only ("the result is returned on rank
    0", "store it on rank 0")."""
    return _ROOT_ONLY.search(task) is not None


def _words(task: str) -> list[str]:
    text = task.lower().replace("/", " ").replace("-", " ").replace(",", " ")
    return [word.strip(".;:!?()'\"`") for word in text.split()]


def read_intent(task: str) -> Intent:
    """The model a task asks for: the one after "to/into/with/using/in" ("port this OpenMP
    loop to Kokkos" -> kokkos), else the last one named ("from X" names a source); OpenMP
    when it names none. Raises :class:`UnsupportedTarget` for a target Ellora cannot write."""
    words = _words(task)
    named = [(i, _WORDS[w]) for i, w in enumerate(words)
             if w in _WORDS and not (i > 0 and words[i - 1] in _AWAY)]
    if not named:
        return Intent(DEFAULT, "the task names no programming model, so OpenMP (the default); "
                               "say 'with Kokkos' or 'with MPI' for another",
                      result_on_root(task))
    toward = [(i, model) for i, model in named if i > 0 and words[i - 1] in _TOWARD]
    index, model = (toward or named)[-1]
    if model not in SUPPORTED:
        raise UnsupportedTarget(
            f"{model} ports are not supported yet: Ellora writes {SUPPORTED_TEXT}; ask for one "
            f"of those (e.g. 'parallelize this loop with OpenMP')")
    how = f"'{words[index - 1]} {words[index]}'" if toward else f"'{words[index]}'"
    return Intent(model, f"the task asks for {SUPPORTED[model]} ({how})", result_on_root(task))
