"""Row-wise (delinearized) dependences: a loop whose iterations each write their own row
``A[i*n + c]`` (columns provably in [0, n)) and read only that row or rows the loop never
writes is parallel, like the row loop of an LU factorization; near misses stay refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from ellora.tools.cpp_syntax import parse_cpp, walk
from ellora.tools.loop_analysis import analyze_loop
from ellora.tools.transformations import to_openmp
from test_loop_versioning import build_and_run

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
    "A[i*n + ...]: each iteration writes its own row i (columns stay in [0, n)); "
    "rows read at k are never written (i > k)"
)


def loop_over(source: str, variable: str):
    """The ``for`` statement whose header declares or sets ``variable``."""
    for node in walk(parse_cpp(source).root_node):
        if node.type == "for_statement":
            initializer = node.child_by_field_name("initializer")
            declared = initializer.text.decode().replace("=", " ").split()
            if variable in declared:
                return node
    raise AssertionError(f"no loop over {variable}")


def facts_for(source: str, variable: str):
    return analyze_loop(loop_over(source, variable), source)


def test_the_row_loop_of_lu_is_parallel_with_the_row_fact():
    facts = facts_for(LU, "i")
    assert facts.parallel, facts.refusal
    assert facts.written_arrays == ["A"] and not facts.atomic_arrays
    assert ROW_FACT in facts.facts
    assert not facts.overlap_check


def test_the_pivot_loop_of_lu_is_still_refused():
    facts = facts_for(LU, "k")
    assert not facts.parallel
    assert "A[i*n+k]" in facts.refusal


def test_the_column_loop_of_lu_alone_is_handled_as_before():
    facts = facts_for(LU, "j")
    assert not facts.parallel
    assert facts.refusal == (
        "loop-carried dependence on A: written at A[i*n+j] and read at A[k*n+j] in other "
        "iterations"
    )


def test_rows_below_the_range_read_through_the_upper_bound():
    source = (
        "void f(int n, int k, double* A) {\n"
        "  for (int i = 0; i < k; ++i)\n"
        "    for (int j = 0; j < n; ++j) A[i * n + j] = A[j + n * i] - A[k * n + j];\n}\n"
    )
    facts = facts_for(source, "i")
    assert facts.parallel, facts.refusal
    assert any("rows read at k are never written (i < k)" in f for f in facts.facts)


def test_whole_rows_of_a_literal_extent_and_a_first_column():
    source = (
        "void f(std::size_t m, double* A) {\n"
        "  for (std::size_t i = 1; i < m; ++i) {\n"
        "    A[i * 4] = A[0 * 4 + 0];\n"
        "    for (int j = 1; j < 4; ++j) A[(i) * 4 + j] = A[0 * 4 + j] + A[i * 4];\n  }\n}\n"
    )
    facts = facts_for(source, "i")
    assert facts.parallel, facts.refusal
    assert any(f.startswith("A[i*4 + ...]: each iteration writes its own row i (columns stay "
                            "in [0, 4)); rows read at 0 are never written (i > 0)")
               for f in facts.facts)


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


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_near_misses_are_still_refused(name):
    facts = facts_for(REFUSED[name], "i")
    assert not facts.parallel, facts.facts
    assert not any("its own row" in f for f in facts.facts)


def test_refusal_messages_of_other_loops_do_not_change():
    facts = facts_for(REFUSED["writes the next row"], "i")
    assert facts.refusal.startswith("indirect or non-injective write A[(i+1)*n+j]")
    facts = facts_for(REFUSED["reads the pivot row it also writes"], "i")
    assert facts.refusal == (
        "indirect or non-injective write A[i*n+k]: two iterations may write the same "
        "element (a race); use atomics or a histogram reduction"
    )


def test_parallel_lu_equals_serial_lu(tmp_path: Path):
    loop = loop_over(LU, "i")
    facts = analyze_loop(loop, LU)
    assert facts.parallel, facts.refusal
    parallel = to_openmp(LU, loop, facts).source
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
    assert build_and_run(tmp_path, program, threads=2).strip() == "same"
