"""Where MPI results go when the task wants them on rank 0 only: a loop's results go to rank
0 only when no other rank reads them again. A later loop reading them, a scalar a later loop
uses, a recursive call's caller: every rank gets them. Copying rank 0's result into the
output after the last loop, or a later scatter-add that updates only on rank 0: rank 0
only. Compared with the serial functions on rank 0 at 1-3 ranks."""

from __future__ import annotations

from loop_support import build_mpi, check_program, run_on_ranks, serial_twins

FUNCTIONS = """\
#include <cstddef>
#include <vector>
void centre(std::vector<double>& x) {
  double sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += x[i];
  const double mean = x.empty() ? 0.0 : sum / x.size();
  for (std::size_t i = 0; i < x.size(); ++i) x[i] -= mean;
}
void pairSums(std::vector<double>& out, const std::vector<double>& in) {
  const std::size_t n = in.size();
  out.assign(n, 0.0);
  if (n < 4) {
    out = in;
    return;
  }
  std::vector<double> half(n / 2), sub;
  for (std::size_t k = 0; k < n / 2; ++k) half[k] = in[2 * k] + in[2 * k + 1];
  pairSums(sub, half);
  for (std::size_t k = 0; k < n; ++k) out[k] = sub[k / 2] * 0.5 + in[k];
}
void lifeStep(const std::vector<int>& in, std::vector<int>& out, std::size_t n) {
  std::vector<int> next(in.size(), 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) next[i * n + j] = in[i * n + j] * 3 + (int)(i % 5);
  out = next;
}
void binCount(const std::vector<int>& v, std::vector<long long>& bins) {
  for (std::size_t b = 0; b < bins.size(); ++b) bins[b] = 0;
  for (std::size_t i = 0; i < v.size(); ++i) bins[v[i] % bins.size()] += 1;
}
"""

NAMES = ("centre", "pairSums", "lifeStep", "binCount")

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 3, 8, 37, 1000}) {
    std::vector<double> x(n), xs, in(n), out, outs;
    std::vector<int> grid(n * n), life, lifes, v(n);
    std::vector<long long> bins(7, 5), binss(7, 5);
    for (int i = 0; i < n; ++i) { x[i] = (i * 37) % 23; in[i] = (i * 11) % 17; v[i] = (i * 13) % 50; }
    for (int i = 0; i < n * n; ++i) grid[i] = (i * 7) % 2;
    xs = x;
    centre(x); serial_centre(xs);
    pairSums(out, in); serial_pairSums(outs, in);
    lifeStep(grid, life, n); serial_lifeStep(grid, lifes, n);
    binCount(v, bins); serial_binCount(v, binss);
    if (rank == 0) same &= x == xs && out == outs && life == lifes && bins == binss;
  }
  REPORT
}
"""


def _parallel() -> str:
    from ellora.tools.loops.region import plan_region

    plan = plan_region(FUNCTIONS, 1, FUNCTIONS.count("\n") + 1, "mpi", mpi_root=True)
    assert plan.source is not None, plan.left_serial()
    return plan.source


def _function(source: str, name: str) -> str:
    return source.split(f"void {name}(")[1].split("\nvoid ")[0]


def test_results_stay_on_every_rank_where_other_ranks_read_them():
    parallel = _parallel()
    centre = _function(parallel, "centre")
    assert "MPI_Allreduce(MPI_IN_PLACE, &ellora_value" in centre  # a later loop uses sum
    assert "MPI_Gatherv" in centre  # the last loop: rank 0
    recursive = _function(parallel, "pairSums")  # its caller reads sub on every rank
    assert "MPI_Gatherv" not in recursive and "MPI_Allgatherv" in recursive
    life = _function(parallel, "lifeStep")  # only copied into the output afterwards
    assert "MPI_Gatherv" in life and "MPI_Allgatherv" not in life
    bins = _function(parallel, "binCount")  # the scatter-add updates bins on rank 0 only
    assert "MPI_Allgatherv" not in bins and "MPI_Reduce(" in bins


def test_placed_results_equal_the_serial_code_on_rank_0(tmp_path):
    serial = serial_twins(FUNCTIONS, NAMES, "#include <vector>\n")
    serial = serial.replace("  pairSums(sub, half);", "  serial_pairSums(sub, half);")
    program = check_program(_parallel(), serial, CHECK, "mpi")
    binary = build_mpi(tmp_path, program)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"
