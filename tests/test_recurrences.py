"""Running maxima/minima (an array that reads its previous element) as block scans:
recognized only in their exact forms, and equal to the serial loop, NaNs and ties included,
at several thread counts."""

from __future__ import annotations

import pytest
from ellora.tools.loop_plan import rewrite_region
from test_loop_versioning import build_and_run, facts_of

RUNNING = """\
#include <algorithm>
#include <cstddef>
void runMax(std::size_t n, const double* x, double* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = (i == 0 || x[i] > out[i - 1]) ? x[i] : out[i - 1];
  }
}
void runMin(long n, const int* x, long long* out) {
  for (long i = 1; i < n; ++i) {
    out[i] = std::min(out[i - 1], (long long)x[i] * 3);
  }
}
"""

CHECK = """
#include <cmath>
#include <cstdio>
#include <vector>
int main() {
  int same = 1;
  for (long n : {0L, 1L, 2L, 3L, 5L, 1000L, 100003L}) {
    std::vector<double> x(n), a(n), b(n);
    std::vector<int> y(n);
    std::vector<long long> c(n + 1, 7), d(n + 1, 7);
    for (long i = 0; i < n; ++i) {
      x[i] = (double)((i * 7919) % 1009) - (i % 3 == 0 ? 500.0 * (i % 5) : 0.0);
      if (i % 97 == 5) x[i] = NAN;  // NaNs never win a comparison
      y[i] = (int)((i * 31) % 201) - 100;
    }
    if (n > 2) x[0] = NAN;  // ... unless the first element is one: then it stays NaN
    serial_runMax(n, x.data(), a.data());
    runMax(n, x.data(), b.data());
    for (long i = 0; i < n; ++i) same &= (a[i] == b[i]) || (std::isnan(a[i]) && std::isnan(b[i]));
    serial_runMin(n, y.data(), c.data());
    runMin(n, y.data(), d.data());
    same &= c == d;
  }
  std::printf("%d\\n", same);
}
"""


def test_running_extrema_are_recognized_in_their_exact_forms():
    facts, _ = facts_of(RUNNING)
    assert facts.parallel, facts.refusal
    assert facts.recurrence["operator"] == "max" and facts.recurrence["first_rule"]
    for body in (
        "out[i] = (x[i] > out[i - 1]) ? out[i - 1] : x[i];",  # keeps the smaller: a min
        "out[i] = out[i - 1] + x[i];",  # a sum through memory: not an extremum
        "out[i] = (i == 1 || x[i] > out[i - 1]) ? x[i] : out[i - 1];",  # wrong first index
        "out[i] = (x[i] > out[i - 2]) ? x[i] : out[i - 1];",  # two elements back
        "out[i] = std::max(x[i], out[i - 1]);",  # NaN order differs: not taken
    ):
        source = RUNNING.replace(
            "out[i] = (i == 0 || x[i] > out[i - 1]) ? x[i] : out[i - 1];", body)
        facts, _ = facts_of(source)
        assert not facts.recurrence, body


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_block_scans_of_running_extrema_equal_the_serial_loops(tmp_path, threads):
    parallel = rewrite_region(RUNNING, 1, 30, "openmp").source
    assert parallel.count("#pragma omp barrier") == 2
    serial = RUNNING.replace("void run", "void serial_run").split("#include <cstddef>\n")[1]
    program = parallel + serial + CHECK
    assert build_and_run(tmp_path, program, threads).strip() == "1"


def test_running_extrema_have_no_mpi_transformation():
    with pytest.raises(ValueError, match="running max"):
        rewrite_region(RUNNING, 1, 7, "mpi")
