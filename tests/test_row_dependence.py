"""Row-wise (delinearized) dependences: a loop whose iterations each write their own row
``A[i*n + c]`` (columns provably in [0, n)) and read only that row or rows the loop never
writes is parallel, like the row loop of an LU factorization; near misses stay refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from ellora.tools.loops.expr import Poly
from loop_support import build, refusal, rewrite_loop, run_on_threads, verdict_over

LU = (
    "void luFactorize(std::size_t n, double* A) {\n"
    "  for (std::size_t k = 0; k < n; ++k) {\n"
    "    for (std::size_t i = k + 1; i < n; ++i) {\n"
    "      double factor = A[i * n + k] / A[k * n + k];\n"
    "      A[i * n + k] = factor;\n"
    "      for (std::size_t j = k + 1; j < n; ++j) {\n"
    "        A[i * n + j] -= factor * A[k * n + j];\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
)
ROW_FACT = (
    "A: each iteration writes its own row (row i, rows of n elements); its other elements "
    "read are never written by another iteration"
)


def owned_row(verdict):
    """The one owned write of ``A``: (coordinate, row length)."""
    [owned] = verdict.owned
    assert owned.base == "A" and owned.stride is not None
    return owned.coordinate, verdict.loop.render(owned.stride)


def test_the_row_loop_of_lu_is_parallel_with_the_row_fact():
    verdict, model = verdict_over(LU, "i")
    assert verdict.parallel, verdict.dependence
    assert model.written_bases() == ["A"] and not verdict.scatters
    assert owned_row(verdict) == (0, "n") and verdict.owned[0].offset == Poly()
    assert ROW_FACT in verdict.facts
    assert not verdict.versioned


def test_the_pivot_loop_of_lu_is_still_refused():
    verdict, _ = verdict_over(LU, "k")
    assert refusal(verdict) == ("carried_array", "A")
    assert "A[i * n + k]" in str(verdict.dependence)


def test_the_column_loop_of_lu_owns_its_column():
    """Inside the i loop (i > k) row k is never row i: column j of row i is the
    iteration's own."""
    verdict, _ = verdict_over(LU, "j")
    assert verdict.parallel, verdict.dependence
    assert owned_row(verdict) == (1, "n")
    assert any("its own column (column j, rows of n elements)" in f for f in verdict.facts)


def test_a_column_loop_that_reads_its_neighbour_in_the_pivot_row_is_refused():
    """With i from k, the first row updated is the pivot row itself: A[k*n + j] then
    reads the column j - 1 the previous iteration of j wrote."""
    source = LU.replace("i = k + 1", "i = k").replace("A[k * n + j]", "A[k * n + j - 1]")
    verdict, _ = verdict_over(source, "j")
    assert refusal(verdict) == ("carried_array", "A")
    assert "written at A[i * n + j] and read at A[k * n + j - 1]" in str(verdict.dependence)


def test_rows_below_the_range_read_through_the_upper_bound():
    source = (
        "void f(int n, int k, double* A) {\n"
        "  for (int i = 0; i < k; ++i)\n"
        "    for (int j = 0; j < n; ++j) A[i * n + j] = A[j + n * i] - A[k * n + j];\n}\n"
    )
    verdict, _ = verdict_over(source, "i")
    assert verdict.parallel, verdict.dependence
    assert owned_row(verdict) == (0, "n")  # rows read at k: i < k never reaches them
    assert ROW_FACT in verdict.facts


def test_whole_rows_of_a_literal_extent_and_a_first_column():
    source = (
        "void f(std::size_t m, double* A) {\n"
        "  for (std::size_t i = 1; i < m; ++i) {\n"
        "    A[i * 4] = A[0 * 4 + 0];\n"
        "    for (int j = 1; j < 4; ++j) A[(i) * 4 + j] = A[0 * 4 + j] + A[i * 4];\n  }\n}\n"
    )
    verdict, _ = verdict_over(source, "i")
    assert verdict.parallel, verdict.dependence
    assert owned_row(verdict) == (0, "4")


REFUSED = {
    "writes the next row": (
        "void f(int n, double* A) {\n"
        "  for (int i = 0; i < n - 1; ++i)\n"
        "    for (int j = 0; j < n; ++j) A[(i + 1) * n + j] = A[i * n + j];\n}\n"
    ),
    "reads the pivot row it also writes": LU.replace("i = k + 1", "i = k"),
    "column may leave the row": LU.replace("j < n;", "j < n + 1;"),
    "column starts at an unbounded value": (
        "void f(int n, int k, double* A) {\n"
        "  for (int i = 0; i < n; ++i)\n"
        "    for (int j = k; j < n; ++j) A[i * n + j] = 0;\n}\n"
    ),
    "transposed read": (
        "void f(int n, double* A) {\n"
        "  for (int i = 0; i < n; ++i)\n"
        "    for (int j = 0; j < n; ++j) A[i * n + j] = A[j * n + i];\n}\n"
    ),
    "different extents": (
        "void f(int n, int m, int k, double* A) {\n"
        "  for (int i = k + 1; i < n; ++i)\n"
        "    for (int j = 0; j < n; ++j) A[i * n + j] = A[k * m + j];\n}\n"
    ),
    "column read after its loop": (
        "void f(int n, double* A) { int j;\n"
        "  for (int i = 0; i < n; ++i) {\n"
        "    for (j = 0; j < n; ++j) A[i * n + j] = 1;\n"
        "    A[i * n + j] = 2;\n  }\n}\n"
    ),
    "extent may be zero": (
        "void f(int n, int m, double* A) {\n"
        "  for (int i = 0; i < n; ++i) A[i * m] = 1;\n}\n"
    ),
    # k = p may put the row read at A[i * n + k] (k >= n) in another iteration's row
    "pivot changed before the row loop": (
        "void f(std::size_t n, std::size_t p, double* A) {\n"
        "  for (std::size_t k = 0; k < n; ++k) {\n"
        "    k = p;\n"
        "    for (std::size_t i = 0; i < n; ++i)\n"
        "      for (std::size_t j = 0; j < n; ++j) A[i * n + j] -= A[i * n + k];\n  }\n}\n"
    ),
    "array read through a pointer": (
        "void f(int n, int k, double* A) {\n"
        "  for (int i = k + 1; i < n; ++i)\n"
        "    for (int j = 0; j < n; ++j)\n"
        "      A[i * n + j] = A[k * n + j] + *(A + (i + 1) * n + j);\n}\n"
    ),
}


KINDS = {
    "writes the next row": "carried_array",
    "reads the pivot row it also writes": "carried_array",
    "column may leave the row": "carried_array",
    "column starts at an unbounded value": "indirect_write",
    "transposed read": "carried_array",
    "different extents": "carried_array",
    "column read after its loop": "indirect_write",
    "extent may be zero": "indirect_write",
    "pivot changed before the row loop": "carried_array",
    "array read through a pointer": "unreadable",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_near_misses_are_still_refused(name):
    verdict, _ = verdict_over(REFUSED[name], "i")
    assert not verdict.parallel, verdict.facts
    assert verdict.dependence.kind == KINDS[name]
    assert verdict.dependence.subject == ("" if KINDS[name] == "unreadable" else "A")
    assert not any("its own row" in f for f in verdict.facts)


def test_refusals_name_the_accesses_that_conflict():
    verdict, _ = verdict_over(REFUSED["writes the next row"], "i")
    assert str(verdict.dependence) == (
        "loop-carried dependence on A: written at A[(i + 1) * n + j] and read at A[i * n + j] "
        "in other iterations")
    verdict, _ = verdict_over(REFUSED["reads the pivot row it also writes"], "i")
    assert str(verdict.dependence) == (
        "loop-carried dependence on A: written at A[i * n + k] and read at A[k * n + k] in "
        "other iterations")
    verdict, _ = verdict_over(REFUSED["extent may be zero"], "i")
    assert str(verdict.dependence) == (
        "indirect or non-injective write A[i * m]: two iterations may write the same element "
        "(a race)")
    verdict, _ = verdict_over(REFUSED["array read through a pointer"], "i")
    assert "*(A + (i + 1) * n + j)" in str(verdict.dependence)


def test_parallel_lu_equals_serial_lu(tmp_path: Path):
    verdict, _ = verdict_over(LU, "i")
    assert verdict.parallel, verdict.dependence
    parallel = rewrite_loop(verdict, "openmp")
    assert "#pragma omp parallel for" in parallel
    parallel = parallel.replace("luFactorize(", "luParallel(")
    program = (
        "#include <cmath>\n#include <cstddef>\n#include <cstdio>\n#include <vector>\n"
        + LU + parallel
        + "int main() {\n"
        "  int worst = 0;\n"
        "  for (std::size_t n : {1, 7, 64}) {\n"
        "    std::vector<double> a(n * n), b(n * n);\n"
        "    for (std::size_t i = 0; i < n; ++i)\n"
        "      for (std::size_t j = 0; j < n; ++j)\n"
        "        a[i * n + j] = b[i * n + j] = (i == j ? 2.0 * n + 1 : 0.0)\n"
        "                                      + ((i * 37 + j * 11) % 17) / 17.0;\n"
        "    luFactorize(n, a.data());\n    luParallel(n, b.data());\n"
        "    for (std::size_t e = 0; e < n * n; ++e)\n"
        "      if (std::fabs(a[e] - b[e]) > 1e-12 * std::fabs(a[e]) + 1e-300) worst = 1;\n"
        "  }\n"
        "  std::printf(\"%s\\n\", worst ? \"differ\" : \"same\");\n}\n"
    )
    binary = build(tmp_path, program)
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "same"
