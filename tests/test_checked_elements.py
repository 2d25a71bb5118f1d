"""Elements reached through ``c.at(k)``: read and written like ``c[k]``, and checked like the
serial code checks them. Where the loop's range proves every index below ``c.size()``
nothing is added; otherwise the parallel loop runs behind a test of the touched range and
the original loop runs (and throws ``std::out_of_range`` at the same element) when it fails.
Compared with the serial functions under OpenMP, Kokkos and MPI, on inputs that throw too."""

from __future__ import annotations

import pytest
from loop_support import (
    agrees_on,
    build,
    check_program,
    region_source,
    run_on_threads,
    serial_twins,
    verdict_of,
)

CHECKED = """\
#include <cmath>
#include <cstddef>
#include <vector>
void rootsInto(std::vector<float>& x, const std::vector<float>& y) {
  for (std::size_t i = 0; i < x.size(); i++) x.at(i) = std::sqrt(std::fabs(y.at(i))) + y[i];
}
void bumpAll(std::vector<double>& x) {
  for (std::size_t i = 0; i < x.size(); ++i) x.at(i) += 1.5;
}
double firstN(const std::vector<double>& v, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += v.at(i) * (i % 3);
  return s;
}
void shiftDown(std::vector<int>& a, const std::vector<int>& b, int n) {
  for (int i = 1; i < n; ++i) a.at(i - 1) = b.at(i) * 2 + 1;
}
"""

NAMES = ("rootsInto", "bumpAll", "firstN", "shiftDown")

CHECK = """
#include <cstdio>
#include <stdexcept>
template <class F> int threw(F f) {
  try { f(); } catch (const std::out_of_range&) { return 1; }
  return 0;
}
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 2, 7, 1000, 30001}) {
    for (int shorter : {0, 1, 5}) {  // the second container shorter: the serial code throws
      const int m = n > shorter ? n - shorter : 0;
      std::vector<float> x(n, -1.0f), xs(n, -1.0f), y(m);
      std::vector<double> d(n), ds, v(m);
      std::vector<int> a(m, 4), as(m, 4), b(n);
      for (int i = 0; i < m; ++i) { y[i] = (i * 37) % 23 - 11.0f; v[i] = (i * 11) % 17; }
      for (int i = 0; i < n; ++i) { d[i] = i % 9; b[i] = (i * 13) % 50; }
      ds = d;
      double s = 0, ss = 0;
      same &= threw([&] { rootsInto(x, y); }) == threw([&] { serial_rootsInto(xs, y); });
      bumpAll(d); serial_bumpAll(ds);
      same &= threw([&] { s = firstN(v, n); }) == threw([&] { ss = serial_firstN(v, n); });
      same &= threw([&] { shiftDown(a, b, n); }) == threw([&] { serial_shiftDown(as, b, n); });
      same &= x == xs && d == ds && s == ss && a == as;
    }
  }
  REPORT
}
"""


def _serial() -> str:
    return serial_twins(CHECKED, NAMES, "#include <vector>\n")


def test_indices_the_loop_bounds_need_no_check_and_others_are_tested_before_it():
    roots, _ = verdict_of(CHECKED, 0)
    assert roots.parallel, roots.dependence
    assert [c.base for c in roots.extent_checks] == ["y"], roots.facts  # x.at(i): i < x.size()
    assert "every x.at() index is below x.size()" in roots.facts
    bump, _ = verdict_of(CHECKED, 1)
    assert bump.parallel and not bump.versioned, bump.facts
    total, _ = verdict_of(CHECKED, 2)
    assert total.pattern == "reduction" and [c.base for c in total.extent_checks] == ["v"]


def test_a_map_written_through_at_is_not_an_array():
    source = ("#include <map>\nvoid f(std::map<int, double>& m, int n) {\n"
              "  for (int i = 0; i < n; ++i) m.at(i) = 2.0 * i;\n}\n")
    verdict, _ = verdict_of(source, 0)
    assert not verdict.parallel


def test_checked_elements_equal_the_serial_code_on_threads(tmp_path):
    parallel = region_source(CHECKED, 1, 20, "openmp")
    assert parallel.count("#pragma omp parallel for") == 4, parallel
    assert "if(ellora_disjoint_4)" not in parallel  # the exception leaves outside a region
    binary = build(tmp_path, check_program(parallel, _serial(), CHECK, "openmp"))
    for threads in (1, 2, 4):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


@pytest.mark.parametrize("target", ["kokkos", "mpi"])
def test_checked_elements_equal_the_serial_code_under_kokkos_and_mpi(tmp_path, target):
    parallel = region_source(CHECKED, 1, 20, target)
    program = check_program(parallel, _serial(), CHECK, target)
    agrees_on(tmp_path, program, target, (1, 3))
