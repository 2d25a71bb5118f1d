"""MPI across a serial loop: a parallel loop inside a loop that carries a dependence from one
step to the next (elimination, Floyd-Warshall, a relaxation kept per element) runs with
fixed row owners, the row each step reads broadcast from its owner, and the rows gathered
once after the loop. Compared with the serial functions at 1-3 ranks, with the result on
every rank and on rank 0 only; a nest that reads rows other than the step's keeps a gather
after every step."""

from __future__ import annotations

import pytest
from loop_support import build_mpi, check_program, run_on_ranks, serial_twins

NESTS = """\
#include <cstddef>
#include <vector>
void luRows(std::vector<double>& A, std::size_t N) {
  for (std::size_t i = 0; i < N; i++) {
    for (std::size_t j = i + 1; j < N; j++) {
      A[j * N + i] = A[j * N + i] / A[i * N + i];
      for (std::size_t k = i + 1; k < N; k++) {
        A[j * N + k] = A[j * N + k] - A[j * N + i] * A[i * N + k];
      }
    }
  }
}
void eliminate(std::vector<double>& M, std::vector<double>& rhs, int n) {
  for (int k = 0; k < n - 1; ++k) {
    for (int r = k + 1; r < n; ++r) {
      const double factor = M[r * n + k] / M[k * n + k];
      for (int c = k; c < n; ++c) M[r * n + c] -= factor * M[k * n + c];
      rhs[r] -= factor * rhs[k];
    }
  }
}
void shortestPaths(int* dist, int n) {
  for (int via = 0; via < n; ++via)
    for (int from = 0; from < n; ++from)
      for (int to = 0; to < n; ++to) {
        int through = dist[from * n + via] + dist[via * n + to];
        if (through < dist[from * n + to]) dist[from * n + to] = through;
      }
}
void relax(std::vector<float>& x, const std::vector<float>& target, int steps) {
  for (int t = 0; t < steps; ++t) {
    for (std::size_t e = 0; e < x.size(); ++e) {
      x[e] = 0.5f * x[e] + 0.5f * target[e] + (float)(e % 3);
    }
  }
}
void twoPasses(std::vector<double>& y, std::vector<double>& z, const std::vector<double>& w) {
  for (std::size_t i = 0; i < w.size(); ++i) y[i] = w[i] * 2 + 1;
  for (std::size_t i = 1; i + 1 < w.size(); ++i) z[i] = y[i - 1] + y[i + 1];
}
void lowerRows(std::vector<long long>& T, int n) {
  for (int k = 1; k < n; ++k) {
    for (int row = k; row < n; ++row) {
      long long s = 0;
      for (int m = 0; m < k; ++m) s += T[m * n + row];
      T[row * n + k] = s % 1000003 + T[row * n + k - 1];
    }
  }
}
"""

NAMES = ("luRows", "eliminate", "shortestPaths", "relax", "twoPasses", "lowerRows")

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 2, 3, 5, 8, 33, 120}) {
    std::vector<double> A(n * n), As, M(n * n), Ms, rhs(n), rhss;
    std::vector<int> D(n * n), Ds;
    std::vector<float> x(n), xs, target(n);
    std::vector<long long> T(n * n), Ts;
    std::vector<double> w(n), y(n, -1.0), ys(n, -1.0), z(n, -2.0), zs(n, -2.0);
    for (int i = 0; i < n * n; ++i) {
      A[i] = M[i] = ((i * 7919) % 1009) / 100.0 + ((i % (n + 1)) == 0 ? 4.0 * n : 0.0);
      D[i] = (i % (n + 1)) == 0 ? 0 : 1 + (i * 31) % 97;
      T[i] = (i * 131) % 977;
    }
    for (int i = 0; i < n; ++i) {
      rhs[i] = i % 11 - 5.0; x[i] = i % 5; target[i] = i % 7; w[i] = (i * 37) % 23;
    }
    As = A; Ms = M; rhss = rhs; Ds = D; xs = x; Ts = T;
    luRows(A, n); serial_luRows(As, n);
    eliminate(M, rhs, n); serial_eliminate(Ms, rhss, n);
    shortestPaths(D.data(), n); serial_shortestPaths(Ds.data(), n);
    relax(x, target, 7); serial_relax(xs, target, 7);
    twoPasses(y, z, w); serial_twoPasses(ys, zs, w);
    lowerRows(T, n); serial_lowerRows(Ts, n);
    bool here = A == As && M == Ms && rhs == rhss && D == Ds && x == xs && T == Ts &&
                y == ys && z == zs;
    if (ROOT_ONLY && rank != 0) here = true;
    same &= here;
  }
  REPORT
}
"""


def _plan(root: bool):
    from ellora.tools.loops.region import plan_region

    return plan_region(NESTS, 1, NESTS.count("\n") + 1, "mpi", mpi_root=root)


@pytest.mark.parametrize("root", [False, True], ids=["every-rank", "rank-0"])
def test_serial_loops_around_parallel_ones_equal_the_serial_code_on_ranks(tmp_path, root):
    plan = _plan(root)
    assert plan.source is not None, plan.left_serial()
    parallel = plan.source
    # the results go to rank 0 only from the last loop of a function, outside every loop
    # (a later loop or step reads the others' on every rank)
    # three nests distributed by rows, each array gathered once after its serial loop;
    # Floyd-Warshall stays serial (iteration via writes the row every iteration reads)
    assert parallel.count("each row from its owner") == 4, parallel  # A, M, rhs, x
    assert parallel.count("MPI_Bcast(") == 3, parallel  # A row i, M row k, rhs[k]
    assert ("MPI_Gatherv(ellora_mine" if root else "MPI_Allgatherv(ellora_mine") in parallel
    two = parallel.split("void twoPasses")[1].split("void lowerRows")[0]
    assert two.count("MPI_Allgatherv(MPI_IN_PLACE") == (1 if root else 2), two
    lower = parallel.split("void lowerRows")[1]
    assert "MPI_Gatherv" not in lower, lower  # inside the serial loop: every rank's rows
    serial = serial_twins(NESTS, NAMES, "#include <vector>\n")
    program = check_program(parallel, serial, CHECK.replace("ROOT_ONLY", str(root).lower()),
                            "mpi")
    binary = build_mpi(tmp_path, program)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"


def test_the_plan_says_what_runs_where():
    plan = _plan(False)
    lines = {d.line for d in plan.transformed}
    assert {5, 15, 32} <= lines, plan.to_dict()  # the inner loops of the three nests
    assert "row i of A" not in plan.explanation  # rendered from the model, not the text
    assert "A row i" in plan.explanation and "M row k; rhs[k]" in plan.explanation
    assert "row q on rank q mod ranks" in plan.explanation
    serial = [note for note in plan.left_serial() if "loops inside it run in parallel" in note]
    assert len(serial) >= 3, plan.left_serial()


def test_a_step_reading_rows_an_inner_loop_names_keeps_a_gather_per_step():
    """``lowerRows`` reads ``T[m * n + row]`` for every m below the step: rows other ranks
    own; its inner loop is parallel, so each step is gathered to every rank instead."""
    plan = _plan(False)
    lower = plan.source.split("void lowerRows")[1]
    assert "each row from its owner" not in lower
    assert "MPI_Allgatherv(MPI_IN_PLACE" in lower
