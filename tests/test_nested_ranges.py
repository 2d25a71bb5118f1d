"""Range-based loops over the rows of a nested container, from their semantics: in
``for (auto& row : m) for (auto& x : row)`` (or ``for (auto& x : m[i])``) the element ``x`` is
``m[i][k]``, so row i belongs to iteration i. Ragged rows, reductions over them and a row
alias are ported to OpenMP, Kokkos and MPI and equal the serial functions; a row every
iteration shares is still refused."""

from __future__ import annotations

import pytest
from loop_support import (
    build,
    build_kokkos,
    build_mpi,
    check_program,
    region_source,
    run_on_ranks,
    run_on_threads,
    serial_twins,
    verdict_of,
)

ROWS = """\
#include <cmath>
#include <cstddef>
#include <vector>
void scaleRows(std::vector<std::vector<double>>& m, double a) {
  for (auto& row : m)
    for (auto& x : row) x = a * x + 1.0;
}
void rowSums(const std::vector<std::vector<double>>& m, std::vector<double>& out) {
  for (std::size_t i = 0; i < m.size(); ++i) {
    double s = 0;
    for (const auto& x : m[i]) s += x;
    out[i] = s;
  }
}
double total(const std::vector<std::vector<double>>& m) {
  double s = 0;
  for (const auto& row : m)
    for (double x : row) s += std::fabs(x);
  return s;
}
void clampRows(std::vector<std::vector<int>>& m, int hi) {
  for (std::size_t i = 0; i < m.size(); ++i) {
    auto& row = m[i];
    for (int& v : row) {
      if (v > hi) v = hi;
    }
  }
}
"""

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 2, 3, 7, 1000, 20011}) {
    std::vector<std::vector<double>> m(n), ms;
    std::vector<std::vector<int>> k(n), ks;
    for (int i = 0; i < n; ++i) {
      m[i].resize(i % 9);  // ragged, some rows empty
      k[i].resize((i * 7) % 11);
      for (std::size_t j = 0; j < m[i].size(); ++j) m[i][j] = (double)((i * 31 + j * 17) % 23) - 11;
      for (std::size_t j = 0; j < k[i].size(); ++j) k[i][j] = (int)((i * 13 + j * 5) % 29);
    }
    ms = m;
    ks = k;
    std::vector<double> out(n, -1.0), outs(n, -1.0);
    rowSums(m, out);
    serial_rowSums(m, outs);
    same &= out == outs;
    same &= total(m) == serial_total(m);
    scaleRows(m, 2.0);
    serial_scaleRows(ms, 2.0);
    same &= m == ms;
    clampRows(k, 17);
    serial_clampRows(ks, 17);
    same &= k == ks;
  }
  REPORT
}
"""

NAMES = ("scaleRows", "rowSums", "total", "clampRows")


def _serial() -> str:
    return serial_twins(ROWS, NAMES, "#include <vector>\n")


def test_the_element_of_a_row_is_an_element_of_the_nested_container():
    for position in range(4):
        verdict, model = verdict_of(ROWS, position)
        assert verdict.parallel, (position, verdict.dependence)
        assert not any(a.whole for a in model.accesses), position
        assert any(len(a.indices) == 2 for a in model.accesses), position
    total, _ = verdict_of(ROWS, 2)
    assert [(r.name, r.operator) for r in total.reducers] == [("s", "+")]


def test_nested_ranges_equal_the_serial_code_on_threads(tmp_path):
    parallel = region_source(ROWS, 1, 40, "openmp")
    assert parallel.count("#pragma omp parallel for") == 4, parallel
    program = check_program(parallel, _serial(), CHECK, "openmp")
    binary = build(tmp_path, program)
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_nested_ranges_equal_the_serial_code_under_kokkos(tmp_path):
    parallel = region_source(ROWS, 1, 40, "kokkos")
    program = check_program(parallel, _serial(), CHECK, "kokkos")
    binary = build_kokkos(tmp_path, program)
    assert run_on_threads(binary, 2).split()[-1] == "1"


def test_nested_ranges_equal_the_serial_code_on_ranks(tmp_path):
    parallel = region_source(ROWS, 1, 40, "mpi")
    program = check_program(parallel, _serial(), CHECK, "mpi")
    binary = build_mpi(tmp_path, program)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"


PAIRS = """\
#include <cstddef>
#include <utility>
#include <vector>
void addSecond(std::vector<std::pair<double, double>>& ps) {
  for (auto& [a, b] : ps) a += 2 * b;
}
long long dotPairs(const std::vector<std::pair<int, int>>& ps) {
  long long s = 0;
  for (const auto& [a, b] : ps) s += (long long)a * b;
  return s;
}
void setFirst(std::vector<std::pair<int, int>>& ps) {
  for (auto& [key, value] : ps) key = value % 7;
}
"""

PAIRS_CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 3, 1000, 100003}) {
    std::vector<std::pair<double, double>> d(n), ds;
    std::vector<std::pair<int, int>> p(n), ps;
    for (int i = 0; i < n; ++i) { d[i] = {i % 5, i % 3}; p[i] = {i % 11, (i * 7) % 13}; }
    ds = d; ps = p;
    same &= dotPairs(p) == serial_dotPairs(p);
    addSecond(d); serial_addSecond(ds);
    setFirst(p); serial_setFirst(ps);
    same &= d == ds && p == ps;
  }
  REPORT
}
"""


def _pairs_serial() -> str:
    return serial_twins(PAIRS, ("addSecond", "dotPairs", "setFirst"), "#include <vector>\n")


def test_structured_bindings_name_the_element():
    for position in range(3):
        verdict, model = verdict_of(PAIRS, position)
        assert verdict.parallel, (position, verdict.dependence)
        assert model.header.bindings and all(a.base == "ps" for a in model.accesses)
    shared = PAIRS.replace("key = value % 7;", "key = ps[0].second;")
    verdict, _ = verdict_of(shared, 2)  # ps[0] read while element 0 is written
    assert not verdict.parallel


@pytest.mark.parametrize("target", ["openmp", "mpi"])
def test_structured_bindings_equal_the_serial_code(tmp_path, target):
    parallel = region_source(PAIRS, 1, 20, target)
    program = check_program(parallel, _pairs_serial(), PAIRS_CHECK, target)
    if target == "openmp":
        binary = build(tmp_path, program)
        for threads in (1, 3):
            assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"
        return
    binary = build_mpi(tmp_path, program)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"
