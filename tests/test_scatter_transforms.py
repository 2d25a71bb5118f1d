"""Scatter-adds privatized per thread and prefix scans as block scans: every update lands once, including updates past the
private limit or at negative offsets (atomics on the shared array), decrements, several
arrays in one loop, vectors, and floating-point weights; compiled and run against the
serial loop at several thread counts."""

from __future__ import annotations

import pytest
from ellora.tools.loops.emit.scatter import PRIVATE_LIMIT
from ellora.tools.loops.legality.verdict import RangeCheck, Scatter
from loop_support import (
    build,
    build_and_run,
    guard_check_program,
    region_source,
    run_on_threads,
    verdict_of,
)

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

# w as float: no pointer of the loop may alias another (different element types)
DISTINCT = SCATTER.replace("const double* w", "const float* w")

CHECK = f"""
#include <cstdio>
#include <cmath>
int main() {{
  const long span = {PRIVATE_LIMIT} + 1000, n = 300000;  // some keys past the private limit
  std::vector<int> keys(n);
  std::vector<WEIGHT> w(n);
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


def _program(source: str, weight: str) -> str:
    parallel = region_source(source, 1, 20, "openmp")
    assert "#pragma omp atomic" in parallel and "ellora_counts_parts" in parallel
    assert "ellora_parity_parts" in parallel and "ellora_sums_parts" in parallel
    serial = source.replace("void scatter(", "void serial_scatter(").split("#include <vector>\n")[1]
    return parallel + serial + CHECK.replace("WEIGHT", weight)


def test_privatized_openmp_scatter_equals_the_serial_loop(tmp_path):
    verdict, _ = verdict_of(DISTINCT)
    assert verdict.scatters == [Scatter("counts", "+"), Scatter("parity", "+"),
                                Scatter("sums", "+")]
    assert not verdict.versioned and verdict.privates == []  # k is declared in the loop
    binary = build(tmp_path, _program(DISTINCT, "float"))
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"




def test_a_scatter_whose_array_may_overlap_a_weight_is_privatized_behind_a_check(tmp_path):
    """sums (double*) may overlap w (const double*): the privatized scatter runs only when
    their ranges are apart."""
    verdict, _ = verdict_of(SCATTER)
    assert verdict.range_checks == [RangeCheck("sums", "w", False)]
    binary = build(tmp_path, _program(SCATTER, "double"))
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_a_scatter_through_a_loaded_index_is_checked_against_the_index_array(tmp_path):
    """h[b[i]] += 1 with int* h and const int* b: h may overwrite the b it reads next, so
    the scatter is parallel only when h's range (replayed from b) and b's are apart."""
    source = "void f(int n, const int* b, int* h) {\n  for (int i = 0; i < n; ++i) h[b[i]] += 1;\n}\n"
    verdict, _ = verdict_of(source)
    assert verdict.scatters == [Scatter("h", "+")]
    assert verdict.range_checks == [RangeCheck("h", "b", False)]
    program = guard_check_program(source, "int n, const int* b, int* h", (
        "int main() {\n  static int a[64] = {0, 3, 1, 3};\n"
        # b = a is read at a[0..3]; h is touched at h[0..3] (the values of b): h = a + 4
        # is apart from b, h = a + 2 overlaps it
        "  std::printf(\"%d %d %d\\n\", check(4, a, a + 4), check(4, a, a + 2),\n"
        "              check(0, a, a));\n}\n"))
    assert build_and_run(tmp_path, program).split() == ["1", "0", "1"]


def test_a_plain_scatter_loop_is_privatized():
    plain = ("void f(int n, const int* k, long* h) {\n"
             "  for (int i = 0; i < n; ++i) { h[k[i]] += 1; }\n}\n")
    assert "ellora_h_parts" in region_source(plain, 1, 3, "openmp")


def test_a_scatter_beside_a_reduction_uses_atomics(tmp_path):
    with_sum = ("long f(int n, const int* k, long* h) { long s = 0;\n"
                "  for (int i = 0; i < n; ++i) { h[k[i]] += 1; s += k[i]; }\n  return s;\n}\n")
    verdict, _ = verdict_of(with_sum)
    assert verdict.scatters == [Scatter("h", "+")] and [r.name for r in verdict.reducers] == ["s"]
    source = region_source(with_sum, 1, 4, "openmp")
    assert "ellora_h_parts" not in source and "#pragma omp atomic" in source
    program = source + with_sum.replace("long f(", "long f_serial(") + (
        "#include <cstdio>\n#include <vector>\n"
        "int main() {\n  const int n = 200000; std::vector<int> k(n);\n"
        "  for (int i = 0; i < n; ++i) k[i] = (i * 7919) % 501;\n"
        "  std::vector<long> a(501, 0), b(501, 0);\n"
        "  int same = f(n, k.data(), a.data()) == f_serial(n, k.data(), b.data()) && a == b;\n"
        "  std::printf(\"%d\\n\", same);\n}\n")
    assert build_and_run(tmp_path, program, 3).strip() == "1"


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
    verdict, _ = verdict_of(SCANS, 0)
    assert (verdict.scan.name, verdict.scan.kind) == ("total", "inclusive")
    verdict, _ = verdict_of(SCANS, 1)
    assert (verdict.scan.name, verdict.scan.kind) == ("before", "exclusive")
    parallel = region_source(SCANS, 1, 15, "openmp")
    assert parallel.count("#pragma omp barrier") == 2
    # a stored running value is scanned once per block and the offset folded in after;
    # a value computed from it (before * 2) is replayed from the offset
    assert "inclusive[i] = ellora_run + inclusive[i];" in parallel
    assert "exclusive[i] = ellora_run * 2;" in parallel
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
