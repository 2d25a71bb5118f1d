"""Idioms ordinary C++ writes, each from its semantics: a bool the loop only sets to one
literal (``if (x[i] == t) found = true;``) is an ||-reduction (&& for false), whatever the
order; a loop body without braces is one statement like any other (a search written
``for (...) if (c) return i;``, a recurrence on one line); ``if (c) { at = i; break; }`` is
a first-match search whose branch runs once, at the first match. Ported to OpenMP, Kokkos
and MPI and equal to the serial functions."""

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

FLAGS = """\
#include <vector>
bool hasValue(const std::vector<int>& x, int t) {
  bool found = false;
  for (size_t i = 0; i < x.size(); ++i) if (x[i] == t) found = true;
  return found;
}
bool allPositive(const std::vector<double>& x) {
  bool ok = true;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] <= 0) {
      ok = false;
    }
  }
  return ok;
}
int firstAt(const std::vector<int>& v, int key) {
  for (int i = 0; i < (int)v.size(); ++i) if (v[i] == key) return i;
  return -1;
}
int firstAbove(const std::vector<int>& v, int key) {
  int at = -1;
  bool seen = false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] > key) {
      at = (int)i * 2;
      seen = true;
      break;
    }
  }
  return seen ? at : -2;
}
void running(int n, const long long* x, long long* out) {
  for (int i = 1; i < n; ++i) out[i] = out[i - 1] + x[i];
}
"""

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 2, 3, 7, 1000, 100003}) {
    std::vector<int> x(n);
    std::vector<double> d(n);
    std::vector<long long> y(n), a(n, 3), b(n, 3);
    for (int i = 0; i < n; ++i) {
      x[i] = (int)((i * 7919L) % 1009);
      d[i] = 1.0 + x[i];
      y[i] = x[i] - 500;
    }
    for (int t : {-1, 0, 5, 1008, (int)((n / 2 * 7919L) % 1009), (int)(((n - 1) * 7919L) % 1009)}) {
      same &= serial_hasValue(x, t) == hasValue(x, t);
      same &= serial_firstAt(x, t) == firstAt(x, t);
      same &= serial_firstAbove(x, t + 1000) == firstAbove(x, t + 1000);
    }
    same &= serial_allPositive(d) == allPositive(d);
    if (n > 2) d[n - 2] = -1;
    same &= serial_allPositive(d) == allPositive(d);
    serial_running(n, y.data(), a.data());
    running(n, y.data(), b.data());
    same &= a == b;
  }
  REPORT
}
"""

NAMES = ("hasValue", "allPositive", "firstAt", "firstAbove", "running")


def _serial() -> str:
    return serial_twins(FLAGS, NAMES, "#include <vector>\n")


def test_flags_are_reductions_and_braceless_bodies_are_statements():
    found, _ = verdict_of(FLAGS, 0)
    assert [(r.name, r.operator) for r in found.reducers] == [("found", "||")]
    ok, _ = verdict_of(FLAGS, 1)
    assert [(r.name, r.operator) for r in ok.reducers] == [("ok", "&&")]
    search, _ = verdict_of(FLAGS, 2)
    assert search.pattern == "search", search.dependence
    broken, _ = verdict_of(FLAGS, 3)
    assert broken.pattern == "search" and broken.search.assigned == ("at", "seen")
    recurrence, _ = verdict_of(FLAGS, 4)
    assert recurrence.pattern == "running +"


@pytest.mark.parametrize("old, new", [
    ("if (x[i] == t) found = true;", "if (x[i] == t) found = i > 3;"),  # not one literal
    ("if (x[i] == t) found = true;", "if (x[i] == t) found = true; else found = false;"),
    ("if (x[i] == t) found = true;", "if (!found && x[i] == t) found = true;"),  # reads it
])
def test_flags_whose_value_depends_on_the_order_are_refused(old, new):
    verdict, _ = verdict_of(FLAGS.replace(old, new), 0)
    assert not verdict.parallel and verdict.dependence.subject == "found"


def test_flags_and_braceless_loops_equal_the_serial_code_on_threads(tmp_path):
    parallel = region_source(FLAGS, 1, 40, "openmp")
    assert "reduction(||:found)" in parallel and "reduction(&&:ok)" in parallel
    program = check_program(parallel, _serial(), CHECK, "openmp")
    binary = build(tmp_path, program)
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_flags_and_braceless_loops_equal_the_serial_code_on_ranks(tmp_path):
    parallel = region_source(FLAGS, 1, 40, "mpi")
    assert "found = ellora_value != 0" in parallel and "ok = ellora_value != 0" in parallel
    program = check_program(parallel, _serial(), CHECK, "mpi")
    binary = build_mpi(tmp_path, program)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"


def test_flag_reductions_run_under_kokkos(tmp_path):
    parallel = region_source(FLAGS, 1, 40, "kokkos")
    program = check_program(parallel, _serial(), CHECK, "kokkos")
    binary = build_kokkos(tmp_path, program)
    assert run_on_threads(binary, 2).split()[-1] == "1"


def test_a_struct_accumulated_member_by_member_is_refused_with_the_way_out():
    source = ("#include <vector>\nstruct Stats { double sum = 0, sumsq = 0; };\n"
              "Stats f(const std::vector<double>& x) { Stats s;\n"
              "  for (size_t i = 0; i < x.size(); ++i) { s.sum += x[i]; s.sumsq += x[i] * x[i]; }\n"
              "  return s; }\n")
    verdict, _ = verdict_of(source, 0)
    assert not verdict.parallel and verdict.dependence.subject == "s"
    assert "accumulate into local scalars" in verdict.dependence.text


@pytest.mark.parametrize("branch", [
    "if (v[i] > key) { at = (int)i * 2; seen = true; } if (seen) break;",  # break elsewhere
    "if (v[i] > key) { at = (int)i * 2; break; seen = true; }",  # break not last
    "if (v[i] > key) { at = (int)i * 2; seen = true; break; } else { at = 0; }",  # an else
])
def test_breaks_that_are_not_a_first_match_are_refused(branch):
    body = """    if (v[i] > key) {
      at = (int)i * 2;
      seen = true;
      break;
    }"""
    assert body in FLAGS
    verdict, _ = verdict_of(FLAGS.replace(body, branch), 3)
    assert not verdict.parallel


@pytest.mark.parametrize("loop", [
    # a range the model cannot index: its elements are changed through the reference
    "for (size_t i = 0; i < m.size(); ++i) for (auto& x : m.at(i)) x += 1;",
    "for (size_t i = 0; i < m.size(); ++i) for (auto& x : pick(m, i)) x += 1;",
])
def test_changes_through_an_untracked_range_element_are_refused(loop):
    source = ("#include <vector>\n"
              "std::vector<double>& pick(std::vector<std::vector<double>>& m, size_t i);\n"
              "void f(std::vector<std::vector<double>>& m) {\n  " + loop + "\n}\n")
    verdict, _ = verdict_of(source, 0)
    assert not verdict.parallel


@pytest.mark.parametrize("loop", [
    # every iteration changes the elements of m[0]: a race the model must not miss
    "for (size_t i = 0; i < m.size(); ++i) for (auto& x : m[0]) x += m[i][0];",
    # through a row alias that is m[0] in every iteration
    "for (size_t i = 0; i < m.size(); ++i) { auto& row = m[0]; for (auto& x : row) x = x * 2 + i; }",
    # through a call taking the reference
    "for (size_t i = 0; i < m.size(); ++i) for (auto& x : m[i]) bump(x);",
])
def test_changes_through_a_nested_range_element_that_races_are_refused(loop):
    source = ("#include <vector>\nvoid bump(double& v);\n"
              "void f(std::vector<std::vector<double>>& m) {\n  " + loop + "\n}\n")
    verdict, _ = verdict_of(source, 0)
    assert not verdict.parallel


def test_reading_an_untracked_range_reads_all_of_its_root():
    source = ("#include <vector>\n"
              "void f(std::vector<std::vector<double>>& m, std::vector<double>& out) {\n"
              "  for (size_t i = 0; i < m.size(); ++i) {\n    double s = 0;\n"
              "    for (const auto& x : m.at(i)) s += x;\n    out[i] = s;\n  }\n}\n")
    verdict, model = verdict_of(source, 0)
    assert verdict.parallel, verdict.dependence
    assert any(a.base == "m" and a.whole for a in model.accesses)
    writes_m = source.replace("out[i] = s;", "out[i] = s; m[i][0] = s;")
    verdict, _ = verdict_of(writes_m, 0)  # m[i][0] written while all of m is read
    assert not verdict.parallel
    tracked = writes_m.replace("m.at(i)", "m[i]")  # row i is iteration i's own
    verdict, model = verdict_of(tracked, 0)
    assert verdict.parallel, verdict.dependence
    assert not any(a.base == "m" and a.whole for a in model.accesses)


def test_a_loop_that_does_not_parse_is_refused_with_its_line():
    source = "void f(int n, double* x) {\n  for (int i = 0; i < n; ++i) {\n    x[i] = x[i] *;\n  }\n}\n"
    verdict, _ = verdict_of(source, 0)
    assert not verdict.parallel
    assert verdict.dependence.text.startswith("line 3: the loop does not parse as C/C++")


BITS = """\
#include <cstddef>
#include <vector>
bool parity(std::vector<bool> const& x) {
  bool result = false;
  for (auto const& b : x) result ^= b;
  return result;
}
long setBits(const std::vector<bool>& x, const std::vector<int>& w) {
  long total = 0;
  for (bool b : x) total += b ? 1 : 0;
  return total + (long)w.size();
}
"""


def test_a_vector_of_bool_is_read_by_each_thread_through_one_iterator(tmp_path):
    parallel = region_source(BITS, 1, 20, "openmp")
    assert parallel.count("ellora_bits") >= 4 and "omp_get_thread_num()" in parallel
    serial = BITS.split("#include <vector>\n")[1].replace(" parity(", " serial_parity(") \
        .replace(" setBits(", " serial_setBits(")
    program = parallel + serial + """
#include <cstdio>
int main() {
  int same = 1;
  for (int n : {0, 1, 2, 63, 64, 65, 1000, 100003}) {
    std::vector<bool> x(n);
    std::vector<int> w(3);
    for (int i = 0; i < n; ++i) x[i] = ((i * 7919L) % 13) < 6;
    same &= parity(x) == serial_parity(x) && setBits(x, w) == serial_setBits(x, w);
  }
  std::printf("%d\\n", same);
}
"""
    binary = build(tmp_path, program)
    for threads in (1, 2, 3, 4):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"
