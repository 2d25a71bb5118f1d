"""Loops that step by an invariant (``start += len``) and touch only ``A[start + offset]``:
each iteration owns the block [start, start + len) when every offset stays in [0, len),
proved from the inner loops' bounds or (when it depends on a run-time value) tested before
the loop (otherwise the serial loop runs)."""

from __future__ import annotations

import pytest
from ellora.tools.loops.expr import Poly
from loop_support import (
    build,
    build_and_run,
    guard_check_program,
    refusal,
    region_source,
    run_on_threads,
    verdict_of,
)

BLOCKS = """\
void blocks(long n, long m, long reach, double* a) {
  for (long s = 0; s < n; s += m) {
    for (long k = 0; k < reach; ++k) {
      long at = s + k;
      a[at] = a[at] * 0.5 + (double)(at % 7) + a[s + reach - 1 - k];
    }
  }
}
"""

CHECK = """
#include <cstdio>
#include <vector>
int main() {
  int same = 1;
  // reach <= m: blocks are disjoint (parallel); reach > m: they overlap (serial fallback)
  for (long reach : {1L, 5L, 8L, 9L, 12L}) {
    std::vector<double> x(1000 + 16), y(1000 + 16);
    for (int i = 0; i < 1016; ++i) x[i] = y[i] = (i * 37 % 101) / 10.0;
    serial_blocks(1000, 8, reach, x.data());
    blocks(1000, 8, reach, y.data());
    same &= x == y;
  }
  std::printf("%d\\n", same);
}
"""


# The butterflies of a radix-2 FFT: offsets k and k + half with half = len / 2 stay in
# [0, len) for every len, so the blocks are proved disjoint without a check.
BUTTERFLIES = """\
#include <cstddef>
void butterflies(std::size_t n, std::size_t len, double* re, double* im) {
  for (std::size_t start = 0; start < n; start += len) {
    const std::size_t half = len / 2;
    for (std::size_t k = 0; k < half; ++k) {
      const double ur = re[start + k], ui = im[start + k];
      const double vr = re[start + k + half] * 0.5, vi = im[start + k + half] * 0.25;
      re[start + k] = ur + vr; im[start + k] = ui + vi;
      re[start + k + half] = ur - vr; im[start + k + half] = ui - vi;
    }
  }
}
"""


def test_a_strided_loop_over_its_own_blocks_is_parallel_under_a_check():
    verdict, model = verdict_of(BLOCKS)
    assert verdict.parallel, verdict.dependence
    assert model.header.step_text == "m"
    [owned] = verdict.owned
    assert owned.block == Poly.symbol("m")


def test_strided_blocks_equal_the_serial_loop_and_fall_back_when_blocks_overlap(tmp_path):
    parallel = region_source(BLOCKS, 1, 9, "openmp")
    assert "s += m" in parallel
    serial = BLOCKS.replace("void blocks(", "void serial_blocks(")
    assert build_and_run(tmp_path, parallel + serial + CHECK, threads=3).strip() == "1"


def test_the_block_check_holds_exactly_when_offsets_stay_inside_the_step(tmp_path):
    program = guard_check_program(BLOCKS, "long n, long m, long reach, double* a", (
        "int main() {\n  static double a[64];\n"
        "  std::printf(\"%d %d %d %d\\n\", check(64, 8, 8, a), check(64, 8, 9, a),\n"
        "              check(64, 8, 1, a), check(0, 8, 9, a));\n}\n"
    ))
    assert build_and_run(tmp_path, program).split() == ["1", "0", "1", "1"]


def test_butterflies_own_their_blocks_without_a_check(tmp_path):
    verdict, model = verdict_of(BUTTERFLIES)
    assert verdict.parallel, verdict.dependence
    assert model.header.step_text == "len"
    # the blocks need no check; only re and im, two double pointers, may overlap
    assert [(c.first, c.second) for c in verdict.range_checks] == [("im", "re")]
    assert {(o.base, o.block) for o in verdict.owned} == {
        ("im", Poly.symbol("len")), ("re", Poly.symbol("len"))}
    parallel = region_source(BUTTERFLIES, 1, 14, "openmp")
    assert "start += len" in parallel and "#pragma omp parallel for" in parallel
    serial = BUTTERFLIES.replace("void butterflies(", "void serial_butterflies(")
    binary = build(tmp_path, parallel + serial + """
#include <cstdio>
#include <vector>
int main() {
  int same = 1;
  for (std::size_t len : {2, 4, 8, 64}) {
    for (std::size_t n : {std::size_t(0), len, std::size_t(1024), std::size_t(65536)}) {
      std::vector<double> a(n), b(n), c(n), d(n);
      for (std::size_t i = 0; i < n; ++i) a[i] = c[i] = (i * 37 % 101) / 10.0, b[i] = d[i] = i % 7;
      serial_butterflies(n, len, a.data(), b.data());
      butterflies(n, len, c.data(), d.data());
      same &= a == c && b == d;
    }
  }
  std::printf("%d\\n", same);
}
""")
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


@pytest.mark.parametrize(
    "body, subject",
    [
        # a[2 * s + k] (blocks of m elements every 2m) and a[k] += 1.0 (a scatter-add the
        # iterations share) are parallel; these are not:
        ("a[s + k + 1] = a[s + k] * 0.5;", "a"),  # one past the block: the next one's first
        ("a[s + k] += 1.0; m = m + 0;", "m"),  # the step changes inside the loop
        ("a[k] = a[k] * 0.5 + s;", "a"),  # every iteration rewrites the same elements
    ],
)
def test_strided_loops_that_share_elements_are_refused(body, subject):
    source = ("void f(long n, long m, double* a) {\n  for (long s = 0; s < n; s += m) {\n"
              f"    for (long k = 0; k < m; ++k) {{ {body} }}\n  }}\n}}\n")
    verdict, _ = verdict_of(source)
    kind, named = refusal(verdict)
    assert named == subject and kind in ("carried_array", "carried_scalar")
