"""Running maxima, minima and sums kept in an array (it reads its previous element) as
block scans: recognized only in their exact forms, and equal to the serial loop, NaNs and
ties included, at several thread counts (OpenMP) and rank counts (MPI)."""

from __future__ import annotations

import pytest
from loop_support import (
    build,
    build_mpi,
    refusal,
    region_source,
    run_on_ranks,
    run_on_threads,
    verdict_of,
)

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
void runSum(long n, const int* x, long long* out) {
  for (long i = 1; i < n; ++i) {
    out[i] = out[i - 1] + x[i];
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
    serial_runSum(n, y.data(), c.data());
    runSum(n, y.data(), d.data());
    same &= c == d;
  }
  std::printf("%d\\n", same);
}
"""


FIRST = "out[i] = (i == 0 || x[i] > out[i - 1]) ? x[i] : out[i - 1];"


def test_running_values_are_recognized_in_their_exact_forms():
    maximum, _ = verdict_of(RUNNING, 0)
    assert maximum.pattern == "running max", maximum.dependence
    assert (maximum.recurrence.base, maximum.recurrence.operator) == ("out", "max")
    assert maximum.recurrence.first_rule and maximum.recurrence.compare == ">"
    minimum, _ = verdict_of(RUNNING, 1)
    assert (minimum.recurrence.operator, minimum.recurrence.first_rule) == ("min", False)
    total, _ = verdict_of(RUNNING, 2)  # a sum through memory: a prefix sum, reassociated
    assert total.pattern == "running +" and total.recurrence.operator == "+"


@pytest.mark.parametrize("body", [
    "out[i] = (x[i] > out[i - 1]) ? out[i - 1] : x[i];",  # keeps the smaller of the new
    "out[i] = (i == 1 || x[i] > out[i - 1]) ? x[i] : out[i - 1];",  # wrong first index
    "out[i] = (x[i] > out[i - 2]) ? x[i] : out[i - 1];",  # two elements back
    "out[i] = std::max(x[i], out[i - 1]);",  # NaN order differs: not taken
    "out[i] = out[i - 1] - x[i];",  # a difference: not associative
])
def test_near_misses_of_running_values_are_refused(body):
    verdict, _ = verdict_of(RUNNING.replace(FIRST, body), 0)
    assert verdict.recurrence is None
    assert refusal(verdict) == ("carried_array", "out")


def test_block_scans_of_running_values_equal_the_serial_loops(tmp_path):
    parallel = region_source(RUNNING, 1, 30, "openmp")
    assert parallel.count("#pragma omp barrier") == 3  # one per loop
    serial = RUNNING.replace("void run", "void serial_run").split("#include <cstddef>\n")[1]
    binary = build(tmp_path, parallel + serial + CHECK)
    for threads in (1, 2, 3, 7):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


MPI_CHECK = """
#include <cmath>
#include <cstdio>
#include <vector>
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int same = 1, rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (long n : {0L, 1L, 2L, 3L, 5L, 1000L, 100003L}) {
    std::vector<double> x(n), a(n), b(n);
    for (long i = 0; i < n; ++i) {
      x[i] = (double)((i * 7919) % 1009) - (i % 3 == 0 ? 500.0 * (i % 5) : 0.0);
      if (i % 97 == 5) x[i] = NAN;
    }
    if (n == 1000) x[0] = NAN;
    serial_runMax(n, x.data(), a.data());
    runMax(n, x.data(), b.data());
    for (long i = 0; i < n; ++i) same &= (a[i] == b[i]) || (std::isnan(a[i]) && std::isnan(b[i]));
  }
  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  if (rank == 0) std::printf("%d\\n", same);
  MPI_Finalize();
}
"""


def test_the_mpi_block_scan_of_a_running_max_equals_the_serial_loop(tmp_path):
    parallel = region_source(RUNNING, 1, 7, "mpi")
    assert "MPI_Allgather(&ellora_mine" in parallel and "MPI_Allgatherv" in parallel
    serial = RUNNING.split("void runMin")[0].replace("void runMax", "void serial_runMax")
    serial = serial.split("#include <cstddef>\n")[1]
    binary = build_mpi(tmp_path, parallel + serial + MPI_CHECK)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"
