"""Lambdas called in a loop and pointers passed to functions, read as what they are.

A local lambda is a function: it is pure when it writes only its own locals and by-value
parameters (one rule with the file's functions, ``purity.py``), and what it captures is read
by every call (scalars as values, arrays and containers whole). A pointer handed to a
function (``p``, ``&a[k]``) hands it the array behind it. The ports are compared with the
serial code under OpenMP, Kokkos and MPI; the refusals are the cases the earlier engine
parallelized with a race (a lambda writing through its reference parameter, a pure helper
given the array the loop writes)."""

from __future__ import annotations

import pytest
from loop_support import agrees_on, check_program, serial_twins, verdict_over

LAMBDAS = """\
#include <cmath>
#include <cstddef>
#include <vector>
void affine(std::vector<double>& y, const std::vector<double>& x, double a) {
  auto f = [&](std::size_t i) { return a * x[i] + 1.0; };
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = f(i);
}
double energy(const double* v, int n, double m) {
  const double half = 0.5 * m;
  auto kinetic = [=](int k) { return half * v[k] * v[k]; };
  double e = 0.0;
  for (int i = 0; i < n; ++i) e += kinetic(i);
  return e;
}
void shifted(std::vector<int>& out, const std::vector<int>& in, int shift) {
  const int n = static_cast<int>(in.size());
  auto wrap = [n, shift, &in](int i) { int j = (i + shift) % n; if (j < 0) j += n; return in[j]; };
  for (int i = 0; i < n; ++i) out[i] = wrap(i);
}
"""

NAMES = ("affine", "energy", "shifted")

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {1, 5, 4096, 10007}) {
    std::vector<double> x(n), y(n, -1.0), ys(n, -1.0);
    std::vector<int> in(n), o(n, -1), os(n, -1);
    for (int i = 0; i < n; ++i) { x[i] = (i * 37) % 101 * 0.25; in[i] = (i * 7919) % 10007; }
    affine(y, x, 1.5); serial_affine(ys, x, 1.5);
    shifted(o, in, 3 - n); serial_shifted(os, in, 3 - n);
    double e = energy(x.data(), n, 2.0), es = serial_energy(x.data(), n, 2.0);
    same &= y == ys && o == os && std::fabs(e - es) <= 1e-9 * std::fabs(es);
  }
  REPORT
}
"""


@pytest.mark.parametrize("target", ["openmp", "kokkos", "mpi"])
def test_loops_calling_capturing_lambdas_give_the_serial_results(tmp_path, target):
    from ellora.tools.loops.region import plan_region

    plan = plan_region(LAMBDAS, 1, 40, target)
    assert len(plan.transformed) == 3 and not plan.serial, plan.first_refusal
    parallel = plan.source
    program = check_program(parallel, serial_twins(LAMBDAS, NAMES, "#include <vector>\n"),
                            CHECK, target)
    agrees_on(tmp_path, program, target, (1, 2, 4))


@pytest.mark.parametrize("source", [
    # the lambda writes through its reference parameter: y[0] from every iteration
    ("#include <vector>\nvoid f(std::vector<double>& y, const std::vector<double>& x) {\n"
    "  auto add = [](double& o, double v) { o += v; };\n"
    "  for (std::size_t i = 0; i < x.size(); ++i) add(y[0], x[i]);\n}\n"),
    # the lambda writes through a local pointer to a captured vector
    ("#include <vector>\nvoid f(std::vector<double>& y, int n) {\n"
    "  auto put = [&](int k) { double* p = y.data(); p[0] = k; return 0; };\n"
    "  for (int i = 0; i < n; ++i) y[i] = put(i);\n}\n"),
    # the lambda reads the array the loop writes (all of it, by reference)
    ("#include <vector>\nvoid f(std::vector<double>& y) {\n"
    "  auto left = [&](std::size_t i) { return i > 0 ? y[i - 1] : 0.0; };\n"
    "  for (std::size_t i = 0; i < y.size(); ++i) y[i] = left(i) + 1.0;\n}\n"),
    # the lambda reads the scalar the loop accumulates
    ("#include <vector>\ndouble f(const std::vector<double>& x) {\n"
    "  double s = 0.0;\n  auto scaled = [&](double v) { return v * s; };\n"
    "  for (std::size_t i = 0; i < x.size(); ++i) s += scaled(x[i]) + x[i];\n  return s;\n}\n"),
    # a pure helper handed the pointer the loop writes reads every element of it
    ("static double total(const double* v, int n) {\n"
    "  double s = 0; for (int k = 0; k < n; ++k) s += v[k]; return s;\n}\n"
    "void f(double* y, int n) {\n  for (int i = 0; i < n; ++i) y[i] = total(y, n) + 1.0;\n}\n"),
    # ... or the address of one of its elements
    ("#include <vector>\nstatic double head(const double* v) { return v[0] + v[1]; }\n"
    "void f(std::vector<double>& y) {\n"
    "  for (std::size_t i = 0; i + 2 < y.size(); ++i) y[i] = head(&y[i + 1]);\n}\n"),
    # a lambda made in the loop reads the accumulator
    ("#include <algorithm>\n#include <vector>\ndouble f(const std::vector<double>& x) {\n"
    "  double s = 0.0;\n  for (std::size_t i = 0; i < x.size(); ++i) {\n"
    "    auto over = [&](double v) { return v > s; };\n    if (over(x[i])) s += x[i];\n  }\n"
    "  return s;\n}\n"),
], ids=["reference-parameter", "local-pointer", "reads-written-array", "reads-accumulator",
        "passed-pointer", "passed-address", "lambda-in-loop"])
def test_calls_that_reach_what_the_loop_writes_are_refused(source):
    verdict, _ = verdict_over(source, "i")
    assert not verdict.parallel, verdict.pattern
