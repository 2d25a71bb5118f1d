"""Loops that step by an invariant (``start += len``) and touch only ``A[start + offset]``:
each iteration owns the block [start, start + len) when every offset stays in [0, len),
which a run-time check tests before the loop (otherwise the serial loop runs)."""

from __future__ import annotations

import pytest
from ellora.tools.loop_plan import rewrite_region
from test_loop_versioning import build_and_run, facts_of, guard_check_program

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


def test_a_strided_loop_over_its_own_blocks_is_parallel_under_a_check():
    facts, _ = facts_of(BLOCKS)
    assert facts.parallel, facts.refusal
    assert facts.step == "m" and facts.block_offsets["a"]
    assert facts.overlap_check["blocks"]["step"] == "m"


def test_strided_blocks_equal_the_serial_loop_and_fall_back_when_blocks_overlap(tmp_path):
    parallel = rewrite_region(BLOCKS, 1, 9, "openmp").source
    assert "s += m" in parallel and "blocks overlap" in parallel
    serial = BLOCKS.replace("void blocks(", "void serial_blocks(")
    assert build_and_run(tmp_path, parallel + serial + CHECK, threads=3).strip() == "1"


@pytest.mark.parametrize(
    "body",
    [
        "a[2 * s + k] += 1.0;",  # two elements per step of s: blocks of 2m
        "a[s + k] += 1.0; m = m + 0;",  # the step changes inside the loop
        "a[k] += 1.0;",  # every iteration writes the same elements
    ],
)
def test_strided_loops_that_share_elements_are_refused(body):
    source = ("void f(long n, long m, double* a) {\n  for (long s = 0; s < n; s += m) {\n"
              f"    for (long k = 0; k < m; ++k) {{ {body} }}\n  }}\n}}\n")
    facts, _ = facts_of(source)
    assert not facts.parallel


def test_the_block_check_holds_exactly_when_offsets_stay_inside_the_step(tmp_path):
    program = guard_check_program(BLOCKS, "long n, long m, long reach, double* a", (
        "int main() {\n  static double a[64];\n"
        "  std::printf(\"%d %d %d %d\\n\", check(64, 8, 8, a), check(64, 8, 9, a),\n"
        "              check(64, 8, 1, a), check(0, 8, 9, a));\n}\n"
    ))
    assert build_and_run(tmp_path, program).split() == ["1", "0", "1", "1"]
