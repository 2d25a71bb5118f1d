"""MPI ports of ordinary C++ loops compiled and run on 1-3 ranks against the serial code."""

import pytest
from loop_support import build, build_mpi, region_source, run_on_ranks, run_on_threads

PARTICLES = """#include <vector>
#include <cstdio>
struct Particle { double x, y, vx, vy, mass; };
void advance(std::vector<Particle>& ps, double dt) {
  for (auto& p : ps) {
    p.x += dt * p.vx;
    p.y += dt * p.vy;
  }
}
"""
MAIN = """
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::vector<Particle> ps(10007);
  for (std::size_t i = 0; i < ps.size(); ++i)
    ps[i] = Particle{i * 0.5, i * 0.25, (double)(i % 7), (double)(i % 5) - 2.0, 1.0};
  advance(ps, 0.1);
  double s = 0;
  for (std::size_t i = 0; i < ps.size(); ++i) s += ps[i].x * (i % 3) + ps[i].y * (i % 11);
  std::printf("%d %.6f\\n", rank, s);
  MPI_Finalize();
}
"""


def serial_output(tmp_path, functions: str, main: str) -> str:
    """The output of ``functions`` with ``main`` stripped of its MPI calls, built serially."""
    (tmp_path / "serial").mkdir()
    serial_main = main.replace("MPI_Init(&argc, &argv);", "").replace(
        "MPI_Comm_rank(MPI_COMM_WORLD, &rank);", "").replace("MPI_Finalize();", "")
    return run_on_threads(build(tmp_path / "serial", functions + serial_main), 1)


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_structs_are_gathered_as_bytes_to_every_rank(tmp_path, ranks):
    parallel = region_source(PARTICLES, 1, 9, "mpi")
    assert "MPI_BYTE" in parallel and "is_trivially_copy_constructible" in parallel
    serial = serial_output(tmp_path, PARTICLES, MAIN).split()[1]
    output = run_on_ranks(build_mpi(tmp_path, parallel + MAIN), ranks)
    lines = sorted(output.split("\n")[:-1])
    assert [line.split()[1] for line in lines] == [serial] * ranks  # every rank has it all


SUMS = """#include <vector>
#include <cstdio>
double scaled_sum(std::vector<double> const& x, std::vector<double>& y, double a) {
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    y[i] = a * x[i];
    s += y[i];
  }
  return s;
}
"""
SUMS_MAIN = """
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::vector<double> x(100003), y(100003);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (i % 17) * 0.25;
  const double s = scaled_sum(x, y, 1.5);
  double t = 0;
  for (std::size_t i = 0; i < y.size(); ++i) t += y[i] * (i % 5);
  if (rank == 0) std::printf("%.4f %.4f\\n", s, t);
  MPI_Finalize();
}
"""


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_results_on_rank_0_only_when_the_task_says_so(tmp_path, ranks):
    from ellora.agents.intent import read_intent
    from ellora.tools.loops.region import plan_region

    assert read_intent("parallelize this loop with MPI; the result is returned on rank 0"
                       ).result_on_root
    assert not read_intent("parallelize this loop with MPI").result_on_root
    parallel = plan_region(SUMS, 1, 11, "mpi", mpi_root=True).source
    assert "MPI_Gatherv(" in parallel and "MPI_Reduce(" in parallel
    assert "MPI_Allgatherv" not in parallel and "MPI_Allreduce" not in parallel
    serial = serial_output(tmp_path, SUMS, SUMS_MAIN)
    assert run_on_ranks(build_mpi(tmp_path, parallel + SUMS_MAIN), ranks) == serial


STENCIL = """#include <vector>
#include <cstdio>
void sweep(const double* in, double* out, long n) {
  for (long i = 1; i < n - 1; ++i)
    for (long j = 1; j < n - 1; ++j)
      out[i * n + j] = (in[(i - 1) * n + j] + in[(i + 1) * n + j] + in[i * n + j - 1]
                        + in[i * n + j + 1] + in[i * n + j]) / 5;
}
"""
STENCIL_MAIN = """
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const long n = 37;
  std::vector<double> in(n * n), out(n * n + 8, 1000.0 * (rank + 1));
  for (long k = 0; k < n * n; ++k) in[k] = (k % 13) * 0.5;
  sweep(in.data(), out.data(), n);
  double written = 0, outside = 0;
  for (long i = 1; i < n - 1; ++i)
    for (long j = 1; j < n - 1; ++j) written += out[i * n + j] * ((i * n + j) % 7);
  for (long k = 0; k <= n; ++k) outside += out[k];  // before the first element written
  for (long k = (n - 2) * n + n - 1; k < n * n + 8; ++k) outside += out[k];  // after the last
  if (rank == 0) std::printf("%.6f %.1f\\n", written, outside);
  MPI_Finalize();
}
"""


@pytest.mark.parametrize("ranks", [2, 3])
def test_a_row_gather_moves_only_the_columns_written(tmp_path, ranks):
    """The interior of a grid: rows are gathered from the first column written to the last,
    so no rank's copy lands before the first element or past the last element the loop
    writes (the whole last row would run past a buffer sized to the last element)."""
    from ellora.tools.loops.region import plan_region

    parallel = plan_region(STENCIL, 3, 7, "mpi", mpi_root=True).source
    assert "MPI_Gatherv(" in parallel
    serial = serial_output(tmp_path, STENCIL, STENCIL_MAIN)
    assert run_on_ranks(build_mpi(tmp_path, parallel + STENCIL_MAIN), ranks) == serial


TRANSPOSED = """#include <vector>
#include <cstdio>
void scale_columns(std::vector<double> const& a, std::vector<double>& b, long rows, long n) {
  for (long i = 0; i < n; ++i)
    for (long j = 0; j < rows; ++j)
      b[j * n + i] = a[j * n + i] * (double)(i + 1) + (double)j;
}
"""
TRANSPOSED_MAIN = """
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const long rows = 29, n = 41;
  std::vector<double> a(rows * n), b(rows * n, 0.0);
  for (long k = 0; k < rows * n; ++k) a[k] = (k % 11) * 0.25;
  scale_columns(a, b, rows, n);
  double t = 0;
  for (long k = 0; k < rows * n; ++k) t += b[k] * (k % 5);
  std::printf("%d %.6f\\n", rank, t);
  MPI_Finalize();
}
"""


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_columns_written_by_each_iteration_are_gathered_as_strided_columns(tmp_path, ranks):
    """``b[j * n + i]`` with i the parallel loop: each rank owns a block of columns, sent as
    one strided datatype per column; every rank ends with the whole array."""
    parallel = region_source(TRANSPOSED, 3, 6, "mpi")
    assert "MPI_Type_vector" in parallel and "MPI_Allgatherv" in parallel
    serial = serial_output(tmp_path, TRANSPOSED, TRANSPOSED_MAIN).split()[1]
    output = run_on_ranks(build_mpi(tmp_path, parallel + TRANSPOSED_MAIN), ranks)
    assert [line.split()[1] for line in sorted(output.split("\n")[:-1])] == [serial] * ranks


BITS = """#include <vector>
#include <cstdio>
bool parity(std::vector<bool> const& x) {
  bool odd = false;
  for (auto const& bit : x) {
    odd ^= bit;
  }
  return odd;
}
long ones(std::vector<bool> const& x) {
  long n = 0;
  for (bool bit : x) {
    if (bit) ++n;
  }
  return n;
}
"""
BITS_MAIN = """
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (long n : {0L, 1L, 7L, 64L, 65L, 100003L}) {
    std::vector<bool> x(n);
    for (long k = 0; k < n; ++k) x[k] = (k * 7919) % 3 == 1;
    const bool p = parity(x);
    const long c = ones(x);
    if (rank == 0) std::printf("%ld %d %ld\\n", n, (int)p, c);
  }
  MPI_Finalize();
}
"""


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_range_loops_over_packed_bits_read_them_through_an_iterator(tmp_path, ranks):
    """A ``std::vector<bool>`` block starts at any bit (not a word boundary): the iterator
    each rank advances reads the same bits the serial loop does."""
    from ellora.tools.loops.region import plan_region

    parallel = plan_region(BITS, 1, 17, "mpi", mpi_root=True).source
    assert parallel.count("ellora_bits") >= 4 and parallel.count("MPI_Reduce(") == 2
    serial = serial_output(tmp_path, BITS, BITS_MAIN)
    assert run_on_ranks(build_mpi(tmp_path, parallel + BITS_MAIN), ranks) == serial


PAIRS = """#include <cmath>
#include <cstdio>
#include <vector>
double closest(std::vector<double> const& x, int& close_pairs) {
  double best = 1e300;
  for (std::size_t i = 0; i < x.size(); ++i) {
    for (std::size_t j = i + 1; j < x.size(); ++j) {
      double d = std::fabs(x[i] - x[j]);
      if (d < 5.0) close_pairs += 1;
      best = std::fmin(best, d);
    }
  }
  return best;
}
long long rows(std::vector<double> const& x, int m) {
  long long total = 0;
  for (int i = 0; i < (int)x.size() / m; ++i) {
    for (int j = i * m; j < (i + 1) * m; ++j) total += (long long)x[j] * i;
  }
  return total;
}
"""

PAIRS_MAIN = """
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (int n : {0, 1, 2, 7, 300}) {
    std::vector<double> x(n);
    for (int i = 0; i < n; ++i) x[i] = (i * 7919 % 1013) * 0.37;
    int close_pairs = 3;
    double best = closest(x, close_pairs);
    std::printf("%d %d %.17g %lld\\n", n, close_pairs, best, rows(x, 3));
  }
  MPI_Finalize();
}
"""


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_a_triangular_reduction_deals_its_iterations_out_in_turn(tmp_path, ranks):
    """``j`` from ``i + 1``: the first iterations hold most of the work, so equal blocks
    leave rank 0 with most of it; the iterations go to the ranks in turn instead. A nest
    whose inner trip count does not change (``j`` from ``i * m`` to ``(i + 1) * m``) keeps
    its blocks."""
    from ellora.tools.loops.region import plan_region

    parallel = plan_region(PAIRS, 4, 21, "mpi").source
    assert parallel.count("+= (std::size_t)ellora_size") == 1
    assert "ellora_begin; i < (int)ellora_end" in parallel.replace("(int)ellora_begin", "ellora_begin")
    serial = serial_output(tmp_path, PAIRS, PAIRS_MAIN)
    output = run_on_ranks(build_mpi(tmp_path, parallel + PAIRS_MAIN), ranks)
    assert sorted(output.splitlines()) == sorted(serial.splitlines() * ranks)


FIRST = """#include <cstdio>
#include <vector>
std::size_t firstAbove(std::vector<int> const& x, int limit) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] > limit) return i;
  }
  return x.size();
}
"""

FIRST_MAIN = """
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::vector<int> x(300000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (int)(i % 1000);
  for (std::size_t at : {5UL, 4095UL, 4096UL, 20000UL, 123457UL, 299999UL}) {
    x[at] = 5000 + (int)at % 7;  // the first value above 4999, and later ones
    if (at + 3 < x.size()) x[at + 3] = 6000;
    std::printf("%zu ", firstAbove(x, 4999));
    x[at] = 0;
    if (at + 3 < x.size()) x[at + 3] = 0;
  }
  std::printf("%zu %zu\\n", firstAbove(x, 99999), firstAbove(std::vector<int>(), 0));
  MPI_Finalize();
}
"""


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_a_first_match_search_stops_at_the_window_holding_it(tmp_path, ranks):
    """Every rank scans the first 4096 iterations (each holds the input), then windows of
    growing size are split over the ranks, each stopping at its first match: an early match
    costs what it costs serially, and the index is the serial loop's."""
    parallel = region_source(FIRST, 1, 8, "mpi")
    assert "ellora_prefix" in parallel and parallel.count("MPI_Allreduce(") == 1
    serial = serial_output(tmp_path, FIRST, FIRST_MAIN)
    output = run_on_ranks(build_mpi(tmp_path, parallel + FIRST_MAIN), ranks)
    assert sorted(output.splitlines()) == sorted(serial.splitlines() * ranks)
