"""Tighter ranges for the run-time overlap check: loops whose ranges come from memory (CSR
row pointers, column indices) and accesses under boundary conditions. The
overlap check bounds them by running the loop headers again, so sparse kernels through
pointers that may alias are versioned instead of refused. Compiled and run against the
serial code with disjoint, overlapping and unsorted inputs."""

from __future__ import annotations

import pytest
from ellora.tools.loops.legality.verdict import RangeCheck
from loop_support import (
    build,
    build_and_run,
    build_kokkos,
    guard_check_program,
    refusal,
    region_source,
    run_on_threads,
    verdict_of,
)

SPMV = (
    "void spmv(int rows, const int* rowPtr, const int* cols, const double* vals,\n"
    "          const double* x, double* y) {\n"
    "  for (int i = 0; i < rows; ++i) {\n"
    "    double sum = 0.0;\n"
    "    for (int k = rowPtr[i]; k < rowPtr[i + 1]; ++k) sum += vals[k] * x[cols[k]];\n"
    "    y[i] = sum;\n"
    "  }\n"
    "}\n"
)

MAIN = """
#include <cstdio>
#include <vector>
int main() {
  const int rows = 20000;
  std::vector<int> ptr(rows + 1, 0), cols;
  std::vector<double> vals;
  for (int i = 0; i < rows; ++i) {
    int per = (i * 7) % 9;
    for (int j = 0; j < per; ++j) { cols.push_back((i * 31 + j * 17) % rows); vals.push_back(0.5 + j); }
    ptr[i + 1] = ptr[i] + per;
  }
  // one buffer holds x and y: apart (y after x), and y == x shifted so they overlap
  std::vector<double> a(3 * rows), b(3 * rows);
  for (int i = 0; i < 3 * rows; ++i) a[i] = b[i] = (i % 101) / 7.0;
  int same = 1;
  spmv(rows, ptr.data(), cols.data(), vals.data(), a.data(), a.data() + rows);
  spmv_parallel(rows, ptr.data(), cols.data(), vals.data(), b.data(), b.data() + rows);
  for (int i = 0; i < 3 * rows; ++i) same &= a[i] == b[i];
  spmv(rows, ptr.data(), cols.data(), vals.data(), a.data(), a.data() + rows / 2);
  spmv_parallel(rows, ptr.data(), cols.data(), vals.data(), b.data(), b.data() + rows / 2);
  for (int i = 0; i < 3 * rows; ++i) same &= a[i] == b[i];
  // unsorted row pointers (row 1 before row 0 in memory): the headers are replayed
  std::vector<int> ptr2 = {3, 5, 0, 3};
  std::vector<int> cols2 = {0, 1, 2, 0, 1};
  std::vector<double> vals2 = {1, 2, 3, 4, 5};
  spmv(3, ptr2.data(), cols2.data(), vals2.data(), a.data(), a.data() + 1);
  spmv_parallel(3, ptr2.data(), cols2.data(), vals2.data(), b.data(), b.data() + 1);
  for (int i = 0; i < 3 * rows; ++i) same &= a[i] == b[i];
  std::printf("%d %s\\n", same, CHECK_NAME);
}
"""


def test_csr_subscripts_are_bounded_by_loads_replayed_from_the_loop_headers():
    verdict, model = verdict_of(SPMV)
    assert verdict.parallel, verdict.dependence
    # y may overlap vals (read over [rowPtr[0], rowPtr[rows])) and x (read at cols[k]);
    # rowPtr and cols are int: they never alias the doubles
    assert verdict.range_checks == [RangeCheck("y", "vals", False), RangeCheck("y", "x", False)]
    [inner] = model.inner
    loads = {atom.text for atom in model.function.atoms if atom.kind == "load"}
    assert {"cols[k]", "rowPtr[i]", "rowPtr[i + 1]"} <= loads
    assert (inner.lower_text, inner.upper_text) == ("rowPtr[i]", "rowPtr[i + 1]")


@pytest.mark.parametrize("target", ["openmp"])
def test_versioned_spmv_equals_serial_on_disjoint_overlapping_and_unsorted_inputs(
        tmp_path, target):
    parallel = region_source(SPMV, 1, 8, target).replace("spmv(", "spmv_parallel(")
    assert "ellora_drops" in parallel and "if(ellora_disjoint_3" in parallel
    program = parallel + SPMV + MAIN.replace("CHECK_NAME", '"spmv"')
    binary = build(tmp_path, program)
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).split() == ["1", "spmv"]


def test_the_csr_check_is_true_only_when_the_replayed_ranges_are_apart(tmp_path):
    program = guard_check_program(SPMV, (
        "int rows, const int* rowPtr, const int* cols, const double* vals, const double* x, "
        "double* y"), (
        "int main() {\n  static double a[64];\n"
        "  const int ptr[4] = {0, 2, 3, 5}, cols[5] = {0, 7, 3, 1, 2}, back[4] = {3, 5, 0, 3};\n"
        "  static double v[8];\n"
        # x read at [0, 7]: y = x + 8 is apart, y = x + 7 overlaps; unsorted row pointers
        # are replayed row by row (vals read at [0, 5) either way)
        "  std::printf(\"%d %d %d %d %d\\n\", check(3, ptr, cols, v, a, a + 8),\n"
        "              check(3, ptr, cols, v, a, a + 7), check(3, back, cols, v, a, a + 8),\n"
        "              check(3, ptr, cols, a + 20, a, a + 8), check(0, ptr, cols, v, a, a));\n"
        "}\n"))
    # vals = a + 20 is read at [20, 24]: y = a + 8 writes [8, 10]: apart
    assert build_and_run(tmp_path, program).split() == ["1", "0", "1", "1", "1"]


def test_a_load_under_a_condition_or_from_a_written_array_is_refused():
    conditional = SPMV.replace("sum += vals[k] * x[cols[k]];",
                               "if (vals[k] > 0) sum += x[cols[k]];")
    verdict, _ = verdict_of(conditional)
    assert refusal(verdict) == ("alias", "y/x")
    assert "under a condition" in str(verdict.dependence)
    written = SPMV.replace("const int* cols", "int* cols").replace(
        "y[i] = sum;", "y[i] = sum; cols[i] = 0;")
    verdict, _ = verdict_of(written)
    assert refusal(verdict) == ("carried_array", "cols")


def test_kokkos_reductions_accumulate_in_a_local_copy(tmp_path):
    count = ("#include <cstddef>\n"
             "std::size_t countAbove(std::size_t n, const double* x, double t) {\n"
             "  std::size_t count = 0;\n"
             "  for (std::size_t i = 0; i < n; ++i) {\n    if (x[i] > t) count += 1;\n  }\n"
             "  return count;\n}\n")
    source = region_source(count, 1, 8, "kokkos")
    assert "std::size_t& ellora_count_update" in source
    assert "std::size_t count = ellora_count_update;" in source
    assert "ellora_count_update = count;" in source
    program = source + count.replace("countAbove(", "countAbove_serial(") + (
        "#include <cstdio>\n#include <vector>\n"
        "int main(int argc, char** argv) {\n  Kokkos::ScopeGuard guard(argc, argv);\n"
        "  int same = 1;\n"
        "  for (std::size_t n : {0, 1, 7, 100003}) {\n"
        "    std::vector<double> x(n); for (std::size_t i = 0; i < n; ++i) x[i] = i % 10;\n"
        "    for (double t : {-1.0, 4.5, 9.0})\n"
        "      same &= countAbove(n, x.data(), t) == countAbove_serial(n, x.data(), t);\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n")
    binary = build_kokkos(tmp_path, program)
    for threads in (1, 3):
        assert run_on_threads(binary, threads).strip().splitlines()[-1] == "1"


JACOBI = (
    "void jacobi(int n, const double* in, double* out) {\n"
    "  for (int i = 0; i < n; ++i) {\n"
    "    for (int j = 0; j < n; ++j) {\n"
    "      if (i == 0 || j == 0 || i + 1 == n || j + 1 == n) {\n"
    "        out[i * n + j] = in[i * n + j];\n"
    "      } else {\n"
    "        out[i * n + j] = (in[(i - 1) * n + j] + in[(i + 1) * n + j] + in[i * n + j - 1]\n"
    "                          + in[i * n + j + 1] + in[i * n + j]) / 5.0;\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
)

LIFE = (
    "void life(long n, const int* in, int* out) {\n"
    "  for (long i = 0; i < n; ++i) {\n"
    "    for (long j = 0; j < n; ++j) {\n"
    "      int alive = 0;\n"
    "      for (int di = -1; di <= 1; ++di) {\n"
    "        for (int dj = -1; dj <= 1; ++dj) {\n"
    "          long r = i + di, s = j + dj;\n"
    "          if ((di != 0 || dj != 0) && r >= 0 && s >= 0 && r < n && s < n) {\n"
    "            alive += in[r * n + s];\n"
    "          }\n"
    "        }\n"
    "      }\n"
    "      out[i * n + j] = (alive == 3 || (in[i * n + j] == 1 && alive == 2)) ? 1 : 0;\n"
    "    }\n"
    "  }\n"
    "}\n"
)


def _guard_program(source: str, element: str, signature: str) -> str:
    return guard_check_program(source, signature, (
        f"int main() {{\n  static {element} a[4 * 64 * 64];\n  const int m = 64 * 64;\n"
        # out right before in, in right before out, one element of overlap, in place
        "  std::printf(\"%d %d %d %d\\n\", check(64, a + m, a), check(64, a, a + m),\n"
        "              check(64, a, a + m - 1), check(64, a, a));\n}\n"
    ))


@pytest.mark.parametrize(
    "source,element,signature",
    [(JACOBI, "double", "int n, const double* in, double* out"),
     (LIFE, "int", "long n, const int* in, int* out")],
)
def test_boundary_conditions_narrow_the_range_the_check_assumes(tmp_path, source, element,
                                                                 signature):
    # without the conditions, in[(i - 1) * n + j] and in[r * n + s] reach one row before
    # the array and the check would refuse adjacent buffers
    program = _guard_program(source, element, signature)
    assert build_and_run(tmp_path, program).split() == ["1", "1", "0", "0"]


def test_the_versioned_jacobi_equals_serial_with_adjacent_and_overlapping_buffers(tmp_path):
    verdict, _ = verdict_of(JACOBI)
    assert verdict.range_checks == [RangeCheck("out", "in", False)]
    parallel = region_source(JACOBI, 1, 12, "openmp").replace("jacobi(", "jacobi_parallel(")
    program = parallel + JACOBI + (
        "#include <cstdio>\n#include <vector>\n"
        "int main() {\n  const int n = 300; int same = 1;\n"
        "  for (int shift : {n * n, -n * n, 5, -7}) {\n"
        "    std::vector<double> a(4 * n * n), b(4 * n * n);\n"
        "    for (int i = 0; i < 4 * n * n; ++i) a[i] = b[i] = (i % 97) / 3.0;\n"
        "    const int in = 2 * n * n;\n"
        "    jacobi(n, a.data() + in, a.data() + in + shift);\n"
        "    jacobi_parallel(n, b.data() + in, b.data() + in + shift);\n"
        "    for (int i = 0; i < 4 * n * n; ++i) same &= a[i] == b[i];\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"
    )
    assert build_and_run(tmp_path, program, threads=3).strip() == "1"
