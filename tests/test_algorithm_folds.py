"""std::reduce with the caller's operation, std::inclusive_scan and std::exclusive_scan (with
std::plus or the caller's op, with and without init, in place): blocks folded from their
first element and combined in block order, the scans in two passes. The standard lets these
algorithms regroup their operation, so integer results equal the serial ones exactly;
compared under OpenMP, Kokkos and MPI (every rank gets the whole result). A call with an
execution policy, or whose operation captures by reference, is left as written."""

from __future__ import annotations

import pytest
from loop_support import (
    agrees_on,
    check_program,
    region_source,
)

FOLDS = """\
#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>
#include <vector>
bool oddTrues(std::vector<bool> const& x) {
  return std::reduce(x.begin(), x.end(), false, [](const auto& a, const auto& b) { return a != b; });
}
int smallestOdd(std::vector<int> const& x) {
  return std::reduce(x.begin(), x.end(), std::numeric_limits<int>::max(),
                     [](const auto& a, const auto& b) {
                       const int oa = a % 2 != 0 ? a : std::numeric_limits<int>::max();
                       const int ob = b % 2 != 0 ? b : std::numeric_limits<int>::max();
                       return std::min(oa, ob);
                     });
}
void prefix(std::vector<long long> const& x, std::vector<long long>& out) {
  std::inclusive_scan(x.begin(), x.end(), out.begin());
}
void runningMin(std::vector<int>& x) {
  std::inclusive_scan(x.begin(), x.end(), x.begin(), [](int a, int b) { return std::min(a, b); },
                      std::numeric_limits<int>::max());
}
void runningMax(std::vector<int> const& x, std::vector<int>& out) {
  std::inclusive_scan(x.begin(), x.end(), out.begin(), [](int a, int b) { return std::max(a, b); });
}
void offsets(std::vector<int> const& counts, std::vector<long long>& start) {
  std::exclusive_scan(counts.begin(), counts.end(), start.begin(), 100LL);
}
void products(std::vector<long long> const& x, std::vector<long long>& out) {
  std::exclusive_scan(x.begin(), x.end(), out.begin(), 1LL,
                      [](long long a, long long b) { return (a * b) % 1000003; });
}
"""

NAMES = ("oddTrues", "smallestOdd", "prefix", "runningMin", "runningMax", "offsets", "products")

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 5, 4095, 4096, 10007, 100003}) {
    std::vector<bool> b(n);
    std::vector<int> v(n), w, m(n), ms(n), c(n);
    std::vector<long long> x(n), o(n, -1), os(n, -1), s(n), ss(n), p(n), ps(n);
    for (int i = 0; i < n; ++i) {
      b[i] = (i * 7) % 3 == 0; v[i] = (i * 7919) % 10007 - 5000; x[i] = (i * 31) % 97 - 40;
      c[i] = i % 5;
    }
    w = v;
    std::vector<int> ws = w;
    same &= oddTrues(b) == serial_oddTrues(b) && smallestOdd(v) == serial_smallestOdd(v);
    prefix(x, o); serial_prefix(x, os);
    runningMin(w); serial_runningMin(ws);
    runningMax(v, m); serial_runningMax(v, ms);
    offsets(c, s); serial_offsets(c, ss);
    products(x, p); serial_products(x, ps);
    same &= o == os && w == ws && m == ms && s == ss && p == ps;
  }
  REPORT
}
"""


def _serial() -> str:
    body = FOLDS.split("#include <vector>\n")[1]
    for name in NAMES:
        body = body.replace(f" {name}(", f" serial_{name}(")
    return body


@pytest.mark.parametrize("target", ["openmp", "kokkos", "mpi"])
def test_folds_and_scans_give_the_serial_results(tmp_path, target):
    parallel = region_source(FOLDS, 1, 60, target)
    for name in ("reduce", "inclusive_scan", "exclusive_scan"):
        assert f"ellora_parallel_{name}(" in parallel, name
    program = check_program(parallel, _serial(), CHECK, target)
    agrees_on(tmp_path, program, target, (1, 2, 4))


def test_a_policy_or_a_capturing_operation_is_left_as_written():
    from ellora.tools.loops.algorithms import algorithm_calls

    source = ("#include <execution>\n#include <numeric>\n#include <vector>\n"
              "int f(std::vector<int>& x, std::vector<int>& y, int k) {\n"
              "  std::inclusive_scan(std::execution::par, x.begin(), x.end(), y.begin());\n"
              "  std::inclusive_scan(x.begin(), x.end(), y.begin(), [&](int a, int b) "
              "{ return a + b + y[0]; });\n"
              "  return std::reduce(x.begin(), x.end(), 0, [k](int a, int b) { return a + b; });\n"
              "}\n")
    calls = algorithm_calls(source, 1, 10, "openmp")
    assert [c.line for c in calls] == [7], calls  # only the reduce with a by-value capture
