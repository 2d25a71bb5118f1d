"""Loops whose ranges come from memory (CSR row pointers, column indices): the run-time
overlap check bounds them by running the loop headers again, so sparse kernels through
pointers that may alias are versioned instead of refused. Compiled and run against the
serial code with disjoint, overlapping and unsorted inputs."""

from __future__ import annotations

import pytest
from ellora.tools.loop_plan import rewrite_region
from test_loop_versioning import build_and_run, facts_of

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
    facts, _ = facts_of(SPMV)
    assert facts.parallel, facts.refusal
    loads = {load for _, load, _ in facts.overlap_check["loads"]}
    assert loads == {"cols[k]", "rowPtr[i]", "rowPtr[i+1]"}


@pytest.mark.parametrize("target", ["openmp"])
def test_versioned_spmv_equals_serial_on_disjoint_overlapping_and_unsorted_inputs(
        tmp_path, target):
    parallel = rewrite_region(SPMV, 1, 8, target).source.replace("spmv(", "spmv_parallel(")
    assert "ellora_drops" in parallel and "if(ellora_disjoint_3)" in parallel
    program = parallel + SPMV + MAIN.replace("CHECK_NAME", '"spmv"')
    assert build_and_run(tmp_path, program, threads=3).split() == ["1", "spmv"]


def test_a_load_under_a_condition_or_from_a_written_array_is_refused():
    conditional = SPMV.replace("sum += vals[k] * x[cols[k]];",
                               "if (vals[k] > 0) sum += x[cols[k]];")
    facts, _ = facts_of(conditional)
    assert not facts.parallel and "under a condition" in facts.refusal
    written = SPMV.replace("const int* cols", "int* cols").replace(
        "y[i] = sum;", "y[i] = sum; cols[i] = 0;")
    facts, _ = facts_of(written)
    assert not facts.parallel


def test_kokkos_reductions_accumulate_in_a_local_copy():
    count = ("#include <cstddef>\n"
             "std::size_t countAbove(std::size_t n, const double* x, double t) {\n"
             "  std::size_t count = 0;\n"
             "  for (std::size_t i = 0; i < n; ++i) {\n    if (x[i] > t) count += 1;\n  }\n"
             "  return count;\n}\n")
    source = rewrite_region(count, 1, 8, "kokkos").source
    assert "std::size_t& ellora_count_update" in source
    assert "std::size_t count = ellora_count_update;" in source
    assert "ellora_count_update = count;" in source
