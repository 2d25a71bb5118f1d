"""Scatter-adds privatized per thread and prefix scans as block scans: every update lands once, including updates past the
private limit or at negative offsets (atomics on the shared array), decrements, several
arrays in one loop, vectors, and floating-point weights; compiled and run against the
serial loop at several thread counts."""

from __future__ import annotations

import pytest
from ellora.tools.loop_plan import rewrite_region
from ellora.tools.scatter_transforms import PRIVATE_LIMIT
from test_loop_versioning import build_and_run

SCATTER = """\
#include <cstddef>
#include <vector>

void scatter(long n, const int* keys, const double* w, long long* counts, double* sums,
             std::vector<long>& parity) {
  for (long i = 0; i < n; ++i) {
    long k = keys[i];
    counts[k] += 1;
    sums[k] -= w[i];
    parity[k & 1]++;
  }
}
"""

CHECK = f"""
#include <cstdio>
#include <cmath>
int main() {{
  const long span = {PRIVATE_LIMIT} + 1000, n = 300000;  // some keys past the private limit
  std::vector<int> keys(n);
  std::vector<double> w(n);
  for (long i = 0; i < n; ++i) {{
    keys[i] = (int)((i * 2654435761ULL) % 97);
    if (i % 1000 == 0) keys[i] = (int)(span - 1 - i % 7);   // far keys: atomic fallback
    if (i % 777 == 0) keys[i] = -3;                         // negative: atomic fallback
    w[i] = 0.25 * (i % 13);
  }}
  std::vector<long long> c1(span + 8, 0), c2(span + 8, 0);
  std::vector<double> s1(span + 8, 0), s2(span + 8, 0);
  std::vector<long> p1(2, 0), p2(2, 0);
  // the arrays start 4 elements in, so key -3 stays inside them
  serial_scatter(n, keys.data(), w.data(), c1.data() + 4, s1.data() + 4, p1);
  scatter(n, keys.data(), w.data(), c2.data() + 4, s2.data() + 4, p2);
  int same = c1 == c2 && p1 == p2;
  for (long i = 0; i < span + 8; ++i) same &= std::fabs(s1[i] - s2[i]) <= 1e-9 * (1 + std::fabs(s1[i]));
  std::printf("%d\\n", same);
}}
"""


def _program(target: str) -> str:
    parallel = rewrite_region(SCATTER, 1, 20, target).source
    serial = SCATTER.replace("void scatter(", "void serial_scatter(").split("#include <vector>\n")[1]
    return parallel + serial + CHECK


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_privatized_openmp_scatter_equals_the_serial_loop(tmp_path, threads):
    program = _program("openmp")
    assert "#pragma omp atomic" in program and "ellora_counts_parts" in program
    assert "ellora_parity_parts" in program and "ellora_sums_parts" in program
    assert build_and_run(tmp_path, program, threads).strip() == "1"


def test_only_plain_scatter_loops_are_privatized():
    plain = ("void f(int n, const int* k, long* h) {\n"
             "  for (int i = 0; i < n; ++i) { h[k[i]] += 1; }\n}\n")
    assert "ellora_h_parts" in rewrite_region(plain, 1, 3, "openmp").source
    with_sum = ("long f(int n, const int* k, long* h) { long s = 0;\n"
                "  for (int i = 0; i < n; ++i) { h[k[i]] += 1; s += k[i]; }\n  return s;\n}\n")
    source = rewrite_region(with_sum, 1, 4, "openmp").source
    assert "ellora_h_parts" not in source and "#pragma omp atomic" in source


SCANS = """\
#include <cstddef>
long long scans(long n, const int* x, long long* inclusive, long long* exclusive) {
  long long total = 5;
  for (long i = 0; i < n; ++i) {
    total += x[i];
    inclusive[i] = total;
  }
  long long before = 0;
  for (long i = 0; i < n; ++i) {
    exclusive[i] = before * 2;
    before += x[i];
  }
  return total + before;
}
"""


@pytest.mark.parametrize("threads", [1, 2, 3, 5])
def test_the_openmp_block_scan_equals_the_serial_scans(tmp_path, threads):
    parallel = rewrite_region(SCANS, 1, 15, "openmp").source
    assert parallel.count("#pragma omp barrier") == 2
    serial = SCANS.replace("long long scans(", "long long serial_scans(").split("\n", 1)[1]
    program = parallel + serial + """
#include <cstdio>
#include <vector>
int main() {
  int same = 1;
  for (long n : {0L, 1L, 2L, 3L, 7L, 1000L, 100003L}) {
    std::vector<int> x(n);
    for (long i = 0; i < n; ++i) x[i] = (int)((i * 37) % 11) - 5;
    std::vector<long long> a(n), b(n), c(n), d(n);
    same &= scans(n, x.data(), a.data(), b.data()) == serial_scans(n, x.data(), c.data(), d.data());
    same &= a == c && b == d;
  }
  std::printf("%d\\n", same);
}
"""
    assert build_and_run(tmp_path, program, threads).strip() == "1"
