"""Loops that count down, from their semantics: an unsigned variable counting down while below
a bound (``for (size_t i = n - 1; i < n; --i)``) stops when it wraps past zero, so it visits
start, ..., 1, 0 when the start passes the test and nothing otherwise; a loop stepping down
by s visits start, start - s, ... and its lowest element is not the bound. Ported to OpenMP,
Kokkos and MPI and equal to the serial functions, and the harness synthesis bounds indices
under such loops."""

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

DOWN = """\
#include <cstddef>
#include <vector>
void twiceFromTheEnd(std::vector<double>& x, const std::vector<double>& y) {
  for (std::size_t i = x.size() - 1; i < x.size(); --i) {
    x[i] = 2 * y[i] + 1;
  }
}
long long sumDown(const std::vector<long long>& v) {
  long long s = 0;
  for (std::size_t i = v.size() - 2; i < v.size(); i--) s += v[i] * (long long)(i % 7);
  return s;
}
void everyThird(int n, double* a) {
  for (int i = n - 1; i >= 0; i -= 3) a[i] = a[i] * 2 + 1;
}
void throughTheBound(std::vector<int>& c, std::size_t m) {
  for (std::size_t k = m; k <= m; --k) c[k] += (int)k;
}
"""

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 2, 3, 4, 5, 7, 1000, 100003}) {
    std::vector<double> x(n, -1.0), xs(n, -1.0), y(n), a(n), as(n);
    std::vector<long long> v(n);
    std::vector<int> c(n + 1, 3), cs(n + 1, 3);
    for (int i = 0; i < n; ++i) {
      y[i] = (i * 7919L) % 1009;
      v[i] = (i * 31L) % 101 - 50;
      a[i] = as[i] = i % 13;
    }
    twiceFromTheEnd(x, y);
    serial_twiceFromTheEnd(xs, y);
    same &= x == xs;
    same &= sumDown(v) == serial_sumDown(v);
    everyThird(n, a.data());
    serial_everyThird(n, as.data());
    same &= a == as;
    throughTheBound(c, (std::size_t)n);
    serial_throughTheBound(cs, (std::size_t)n);
    same &= c == cs;
  }
  REPORT
}
"""

NAMES = ("twiceFromTheEnd", "sumDown", "everyThird", "throughTheBound")


def _serial() -> str:
    return serial_twins(DOWN, NAMES, "#include <vector>\n")


def test_an_unsigned_loop_counting_down_below_its_bound_ends_at_zero():
    verdict, model = verdict_of(DOWN, 0)
    assert verdict.parallel, verdict.dependence
    header = model.header
    assert header.descending and header.lower_text == "0"
    assert "x.size() - 1) < (x.size())" in header.upper_text  # runs only if the start passes
    total, _ = verdict_of(DOWN, 1)
    assert [(r.name, r.operator) for r in total.reducers] == [("s", "+")]


def test_a_loop_stepping_down_starts_its_ascending_form_at_its_lowest_element():
    _, model = verdict_of(DOWN, 2)
    assert model.header.descending and not model.header.unit_step
    assert "/ (3)" in model.header.lower_text


def test_descending_loops_equal_the_serial_code_on_threads(tmp_path):
    parallel = region_source(DOWN, 1, 20, "openmp")
    assert parallel.count("#pragma omp parallel for") == 4, parallel
    program = check_program(parallel, _serial(), CHECK, "openmp")
    binary = build(tmp_path, program)
    for threads in (1, 2, 3, 5):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_descending_loops_equal_the_serial_code_under_kokkos(tmp_path):
    parallel = region_source(DOWN, 1, 20, "kokkos")
    assert parallel.count("Kokkos::parallel_") == 4, parallel
    program = check_program(parallel, _serial(), CHECK, "kokkos")
    binary = build_kokkos(tmp_path, program)
    for threads in (1, 3):
        assert run_on_threads(binary, threads).split()[-1] == "1", f"{threads} threads"


def test_descending_unit_loops_equal_the_serial_code_on_ranks(tmp_path):
    parallel = region_source(DOWN, 1, 20, "mpi")
    program = check_program(parallel, _serial(), CHECK, "mpi")
    binary = build_mpi(tmp_path, program)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"


def test_a_value_kept_after_a_wrapping_loop_is_not_reordered():
    from ellora.tools.loops.emit import NotEmittable, emit

    source = ("#include <vector>\n#include <cstddef>\n"
              "std::size_t f(std::vector<double>& x) {\n  std::size_t last = 0;\n"
              "  for (std::size_t i = x.size() - 1; i < x.size(); --i) {\n"
              "    x[i] = x[i] * 2;\n    last = i;\n  }\n  return last;\n}\n")
    verdict, _ = verdict_of(source, 0)
    if verdict.parallel:  # kept: the last iteration in the loop's order is i == 0
        assert verdict.lastprivates
        with pytest.raises(NotEmittable, match="descending"):
            emit(verdict, "openmp")


@pytest.mark.parametrize("test", ["i >= 0", "i > 0"])
def test_unsigned_loops_that_never_wrap_keep_their_own_reading(test):
    source = ("#include <vector>\n#include <cstddef>\n"
              f"void f(std::vector<double>& x) {{\n"
              f"  for (std::size_t i = x.size(); {test}; --i) x[i - 1] *= 2;\n}}\n")
    from ellora.tools.loops.cpp.header import NotCounted

    if test == "i >= 0":  # an unsigned i is always >= 0: the loop never ends
        with pytest.raises(NotCounted, match="never ends"):
            verdict_of(source, 0)
        return
    verdict, model = verdict_of(source, 0)
    assert verdict.parallel and model.header.lower_text == "(0) + 1"


STEPPING = """\
#include <cstddef>
#include <vector>
void addFromTheEnd(std::vector<double>& v, const std::vector<double>& w) {
  for (std::size_t i = v.size(); i-- > 0;) v[i] += w[i] * (double)(i % 5);
}
long long weighted(const std::vector<int>& v) {
  long long s = 0;
  for (std::size_t i = v.size(); i-- != 0;) {
    s += (long long)v[i] * (long long)(i % 3);
  }
  return s;
}
void rows(std::vector<double>& m, int n) {
  for (int i = 0; i < n; ++i)
    for (int j = n; j-- > 0;) m[i * n + j] = m[i * n + j] * 0.5 + j;
}
"""


def test_a_test_that_steps_its_variable_counts_down_to_zero():
    verdict, model = verdict_of(STEPPING, 0)
    assert verdict.parallel, verdict.dependence
    assert model.header.descending and model.header.steps_in_test
    total, _ = verdict_of(STEPPING, 1)
    assert [(r.name, r.operator) for r in total.reducers] == [("s", "+")]
    nest, model = verdict_of(STEPPING, 2)
    assert nest.parallel, nest.dependence


def test_stepping_tests_equal_the_serial_code_on_threads(tmp_path):
    parallel = region_source(STEPPING, 1, 20, "openmp")
    assert parallel.count("#pragma omp parallel for") == 3, parallel
    serial = STEPPING.split("#include <vector>\n")[1]
    for name in ("addFromTheEnd", "weighted", "rows"):
        serial = serial.replace(f" {name}(", f" serial_{name}(")
    program = parallel + serial + """
#include <cstdio>
int main() {
  int same = 1;
  for (int n : {0, 1, 2, 5, 1000, 100003}) {
    std::vector<double> v(n), vs, w(n), m((std::size_t)(n % 1000) * (n % 1000)), ms;
    std::vector<int> x(n);
    for (int i = 0; i < n; ++i) { v[i] = i % 7; w[i] = i % 11; x[i] = (i * 13) % 17 - 8; }
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = (double)(i % 9);
    vs = v; ms = m;
    addFromTheEnd(v, w); serial_addFromTheEnd(vs, w);
    rows(m, n % 1000); serial_rows(ms, n % 1000);
    same &= v == vs && m == ms && weighted(x) == serial_weighted(x);
  }
  std::printf("%d\\n", same);
}
"""
    binary = build(tmp_path, program)
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_a_stepping_test_on_a_variable_declared_outside_is_not_a_counted_loop():
    source = ("#include <vector>\n#include <cstddef>\nvoid f(std::vector<double>& v) {\n"
              "  std::size_t i = v.size();\n  for (; i-- > 0;) v[i] += 1;\n}\n")
    from ellora.tools.loops.cpp.header import NotCounted

    with pytest.raises(NotCounted):
        verdict_of(source, 0)
