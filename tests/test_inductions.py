"""Induction variables: integers stepped by a constant once per iteration (in the header's
update, as a statement of the body, or as ``k++`` inside a subscript) are read as closed forms
of the loop variable, so the loops that only carried them run in parallel; a variable that
lives after the loop gets its final value, as does a loop counter declared before the loop
(``for (i = from; ...)`` then ``return i``) and the counter of a ``while`` loop that counts. Compared with the serial code under OpenMP, Kokkos
and MPI; the forms that do carry a value (a conditional step, a read after the step, a
``continue`` before it, a step passed by reference) stay serial."""

from __future__ import annotations

import pytest
from loop_support import agrees_on, check_program, serial_twins

INDUCTIONS = """\
#include <cstddef>
#include <vector>
void reverse(std::vector<double>& out, const std::vector<double>& in) {
  int n = static_cast<int>(in.size());
  for (int i = 0, j = n - 1; i < n; ++i, --j) out[i] = in[j];
}
int strided(double* out, const double* in, int n) {
  int j = 3;
  for (int i = 0; i < n; ++i) {
    out[i] = 2.0 * in[j];
    j += 2;
  }
  return j;
}
long packed(std::vector<long>& out, const std::vector<long>& in) {
  long k = 5;
  for (std::size_t i = 0; i < in.size(); i++) {
    out[k++] = in[i] * 3;
  }
  return k;
}
void downwards(std::vector<int>& out, const std::vector<int>& in, int n) {
  int m = 0;
  for (int i = n - 1; i >= 0; --i) { out[m] = in[i] + m; m++; }
}
void stepped(std::vector<double>& out, const std::vector<double>& in, int n) {
  int p = 1;
  for (int i = 0; i < n; i += 3) { out[p] = in[i]; p += 3; }
}
int counted(const double* x, double* y, int n) {
  int i = 1, c = 0;
  while (i < n) {
    y[i] = 0.5 * x[i];
    if (x[i] > 20.0) c++;
    i += 1;
  }
  return c + 100 * i;
}
int afterwards(const std::vector<double>& x, int from) {
  int i, c = 0;
  for (i = from; i < static_cast<int>(x.size()); i++) c += x[i] > 10.0;
  return c * 1000 + i;
}
"""

NAMES = ("reverse", "strided", "packed", "downwards", "stepped", "counted", "afterwards")

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 6, 4097, 20011}) {
    std::vector<double> in(2 * n + 4), o(n, -1.0), os(n, -1.0), r(n, -1.0), rs(n, -1.0);
    std::vector<long> li(n), lo(n + 5, -1), los(n + 5, -1);
    std::vector<int> ii(n), io(n, -1), ios(n, -1);
    for (int i = 0; i < 2 * n + 4; ++i) in[i] = (i * 37) % 101 * 0.5;
    for (int i = 0; i < n; ++i) { li[i] = (i * 7919) % 1009; ii[i] = (i * 31) % 97; }
    std::vector<double> half(in.begin(), in.begin() + n);
    reverse(r, half); serial_reverse(rs, half);
    same &= strided(o.data(), in.data(), n) == serial_strided(os.data(), in.data(), n);
    same &= packed(lo, li) == serial_packed(los, li);
    downwards(io, ii, n); serial_downwards(ios, ii, n);
    std::vector<double> t(n + 3, -1.0), ts(n + 3, -1.0);
    stepped(t, half, n); serial_stepped(ts, half, n);
    std::vector<double> y(n, -1.0), ysr(n, -1.0);
    same &= counted(in.data(), y.data(), n) == serial_counted(in.data(), ysr.data(), n);
    same &= afterwards(half, 3) == serial_afterwards(half, 3) && y == ysr;
    same &= r == rs && o == os && lo == los && io == ios && t == ts;
  }
  REPORT
}
"""


@pytest.mark.parametrize("target", ["openmp", "kokkos", "mpi"])
def test_loops_carrying_only_inductions_give_the_serial_results(tmp_path, target):
    from ellora.tools.loops.region import plan_region

    plan = plan_region(INDUCTIONS, 1, 100, target)
    # MPI keeps the two whose writes it cannot gather (descending m, a loop stepping by 3)
    assert len(plan.transformed) == (5 if target == "mpi" else 7), plan.left_serial()
    program = check_program(plan.source, serial_twins(INDUCTIONS, NAMES, "#include <vector>\n"),
                            CHECK, target)
    agrees_on(tmp_path, program, target, (1, 2, 4))


def test_the_rewrite_keeps_every_line_and_names_what_it_adds():
    from ellora.tools.loops.cpp.inductions import substitute_inductions

    rewritten = substitute_inductions(INDUCTIONS, 1, 100)
    assert len(rewritten.splitlines()) == len(INDUCTIONS.splitlines())
    assert "j += 2" not in rewritten and "k++" not in rewritten and "--j" not in rewritten
    assert "const int j = ellora_j0 - (i - ellora_i0);" in rewritten


@pytest.mark.parametrize("body", [
    "if (in[i] > 0) j += 2; out[i] = in[j];",     # a conditional step
    "j += 2; out[i] = in[j];",                    # read after the step
    "if (in[i] < 0) continue; out[i] = in[j]; j++;",  # skipped by continue
    "out[i] = in[j]; bump(j);",                   # stepped through a reference
    "out[j] = in[j++];",                          # read beside k++ in one statement
    "out[i] = in[j]; j *= 2;",                    # not a constant step
    "out[i] = in[j]; j++; if (in[i] > 1) break;",  # leaves early
])
def test_values_that_are_carried_stay_serial(body):
    from ellora.tools.loops.region import plan_region

    source = ("static void bump(int& v) { v += 1; }\n"
              "int f(double* out, const double* in, int n) {\n  int j = 0;\n"
              f"  for (int i = 0; i < n; ++i) {{ {body} }}\n  return j;\n}}\n")
    plan = plan_region(source, 4, 4, "openmp")
    assert plan.source is None and plan.serial, plan.source


@pytest.mark.parametrize("loop", [
    "while (j < n) { if (in[j] < 0) continue; out[j] = in[j]; j++; }",  # skips the step
    "while (j < n) { out[j] = in[j]; j++; n--; }",  # the bound moves
    "while (j < n) { j++; out[j] = in[j]; }",  # the step is not last
])
def test_while_loops_that_do_not_count_stay_as_written(loop):
    from ellora.tools.loops.cpp.inductions import substitute_inductions

    source = f"int f(double* out, const double* in, int n) {{\n  int j = 0;\n  {loop}\n  return j;\n}}\n"
    assert substitute_inductions(source, 1, 10) == source
