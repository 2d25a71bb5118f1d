"""Prompt text for the model-driven coder; data, kept apart from the logic that uses it."""

from __future__ import annotations

SYSTEM = (
    "You are a careful HPC engineer. You rewrite C/C++ code to run in parallel with "
    "{model_name} without changing its results. Reply with the rewritten lines only, in one "
    "```cpp code block, and nothing else."
)

MODEL_RULES = {
    "openmp": "Use OpenMP: '#pragma omp parallel for' with reduction(...) clauses for "
    "accumulations and private(...) for temporaries. Do not add a main function.",
    "kokkos": "Use Kokkos: Kokkos::parallel_for or Kokkos::parallel_reduce with "
    "Kokkos::RangePolicy<>(begin, end) and KOKKOS_LAMBDA. Keep raw pointers; "
    "Kokkos is initialized by the caller.",
    "mpi": "Use MPI: split the iterations into blocks per rank (MPI_Comm_rank/MPI_Comm_size) "
    "and combine results with MPI_Allreduce or MPI_Allgatherv. MPI is initialized by "
    "the caller.",
    "serial": "Keep the code serial but make it faster.",
}

MODEL_NAMES = {"openmp": "OpenMP", "kokkos": "Kokkos", "mpi": "MPI", "serial": "C++"}

TASK = """Task: {task}

File {file_name}, lines {first}-{last} (the lines to rewrite):
```cpp
{region}
```

The surrounding file for context:
```cpp
{context}
```
{analysis}
{rules}
Write the replacement for lines {first}-{last} only. To change other lines too (an
#include, a helper), reply instead with SEARCH/REPLACE blocks:
<<<<<<< SEARCH
exact lines of the file
=======
new lines
>>>>>>> REPLACE"""

FEEDBACK = """
Your previous attempt failed:
{feedback}
Fix it."""
