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


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_structs_are_gathered_as_bytes_to_every_rank(tmp_path, ranks):
    parallel = region_source(PARTICLES, 1, 9, "mpi")
    assert "MPI_BYTE" in parallel and "is_trivially_copyable" in parallel
    (tmp_path / "serial").mkdir()
    serial = run_on_threads(build(tmp_path / "serial", PARTICLES + MAIN.replace(
        "MPI_Init(&argc, &argv);", "").replace("MPI_Comm_rank(MPI_COMM_WORLD, &rank);", "")
        .replace("MPI_Finalize();", "")), 1).split()[1]
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
    (tmp_path / "serial").mkdir()
    serial = run_on_threads(build(tmp_path / "serial", SUMS + SUMS_MAIN.replace(
        "MPI_Init(&argc, &argv);", "").replace("MPI_Comm_rank(MPI_COMM_WORLD, &rank);", "")
        .replace("MPI_Finalize();", "")), 1)
    assert run_on_ranks(build_mpi(tmp_path, parallel + SUMS_MAIN), ranks) == serial
