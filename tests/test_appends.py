"""Loops that build a list (``out.push_back(v)``): every target deals the iterations out in
contiguous blocks, each appending to a list of its own, and joins the lists in block order
after what ``out`` held before (counting down, the first block holds the highest
iterations and runs them downwards). Unconditional appends, filters, two lists in two branches,
appends from an inner loop, elements that are pairs; compared with the serial functions
under OpenMP, Kokkos and MPI (every rank, and rank 0 only). A loop that also reads the list
(its size, an element) or changes it another way keeps its order dependence and is refused."""

from __future__ import annotations

import pytest
from loop_support import (
    build,
    build_kokkos,
    build_mpi,
    check_program,
    refusal,
    region_source,
    run_on_ranks,
    run_on_threads,
    serial_twins,
    verdict_of,
)

APPENDS = """\
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>
void roots(const std::vector<double>& x, std::vector<double>& out) {
  for (std::size_t i = 0; i < x.size(); ++i) out.push_back(std::sqrt(x[i]) + 1.0);
}
void positives(const std::vector<int>& x, std::vector<int>& out) {
  for (int v : x)
    if (v > 0) out.push_back(v);
}
void split(const std::vector<long long>& x, std::vector<long long>& evens,
           std::vector<long long>& odds) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] % 2 == 0) evens.push_back(x[i] / 2);
    else odds.emplace_back(3 * x[i] + 1);
  }
}
void pairsSumming(const std::vector<int>& a, int target, std::vector<int>& found) {
  for (int i = 0; i < (int)a.size(); ++i)
    for (int j = 0; j < i; ++j)
      if (a[i] + a[j] == target) found.push_back(i * 100000 + j);
}
void backwards(const std::vector<int>& x, std::vector<int>& out) {
  for (int i = (int)x.size() - 1; i >= 0; i--) out.push_back(x[i] * 2);
}
void backwardsIf(const std::vector<int>& x, std::vector<int>& out) {
  for (std::size_t i = x.size(); i-- > 0;)
    if (x[i] % 3 == 0) out.push_back(x[i] + (int)i);
}
void marked(const std::vector<int>& a, std::vector<std::pair<int, int>>& out) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] % 7 == 3) out.emplace_back((int)i, a[i]);
}
"""

NAMES = ("roots", "positives", "split", "pairsSumming", "backwards", "backwardsIf", "marked")

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 3, 8, 257, 5000}) {
    std::vector<double> x(n), out(2, -1.0), outs(2, -1.0);  // kept before the appends
    std::vector<int> v(n), pos, poss, a(n % 400), found, founds;
    std::vector<long long> w(n), ev(1, 9), evs(1, 9), od, ods;
    std::vector<std::pair<int, int>> pairs, pairss;
    std::vector<int> back, backs, backIf(1, 7), backIfs(1, 7);
    for (int i = 0; i < n; ++i) { x[i] = (i * 37) % 101; v[i] = (i * 13) % 21 - 10; w[i] = i * 7 + 3; }
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = (int)((i * 31) % 97);
    roots(x, out); serial_roots(x, outs);
    positives(v, pos); serial_positives(v, poss);
    split(w, ev, od); serial_split(w, evs, ods);
    pairsSumming(a, 100, found); serial_pairsSumming(a, 100, founds);
    backwards(v, back); serial_backwards(v, backs);
    backwardsIf(v, backIf); serial_backwardsIf(v, backIfs);
    marked(v, pairs); serial_marked(v, pairss);
    bool here = out == outs && pos == poss && ev == evs && od == ods && found == founds &&
                back == backs && backIf == backIfs;
    if (!MPI_TARGET) here = here && pairs == pairss;
    if (ROOT_ONLY && rank != 0) here = true;
    same &= here;
  }
  REPORT
}
"""


def _program(parallel: str, target: str, root: bool = False) -> str:
    serial = serial_twins(APPENDS, NAMES, "#include <vector>\n")
    check = CHECK.replace("ROOT_ONLY", str(root).lower()).replace(
        "MPI_TARGET", str(target == "mpi").lower())
    if target != "mpi":
        check = check.replace("rank != 0", "false")
    return check_program(parallel, serial, check, target)


def test_appending_loops_are_appends_and_other_uses_of_the_list_refuse():
    for position in range(7):
        verdict, _ = verdict_of(APPENDS, position)
        assert verdict.pattern == "append", (position, verdict.dependence)
    reads = ("#include <vector>\nvoid f(const std::vector<int>& x, std::vector<int>& out) {\n"
             "  for (std::size_t i = 0; i < x.size(); ++i)\n"
             "    if (out.size() < 10) out.push_back(x[i]);\n}\n")
    assert refusal(verdict_of(reads, 0)[0]) == ("container", "out")
    cleared = ("#include <vector>\nvoid f(const std::vector<int>& x, std::vector<int>& out) {\n"
               "  for (std::size_t i = 0; i < x.size(); ++i) {\n"
               "    out.push_back(x[i]);\n    if (x[i] == 0) out.clear();\n  }\n}\n")
    assert refusal(verdict_of(cleared, 0)[0]) == ("container", "out")


def test_appends_equal_the_serial_code_on_threads(tmp_path):
    parallel = region_source(APPENDS, 1, 40, "openmp")
    assert parallel.count("#pragma omp parallel\n") == 7, parallel
    binary = build(tmp_path, _program(parallel, "openmp"))
    for threads in (1, 2, 4):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_appends_equal_the_serial_code_under_kokkos(tmp_path):
    parallel = region_source(APPENDS, 1, 40, "kokkos")
    assert parallel.count("_append\"") == 7, parallel
    binary = build_kokkos(tmp_path, _program(parallel, "kokkos"))
    for threads in (1, 3):
        assert run_on_threads(binary, threads).split()[-1] == "1", f"{threads} threads"


@pytest.mark.parametrize("root", [False, True], ids=["every-rank", "rank-0"])
def test_appends_equal_the_serial_code_on_ranks(tmp_path, root):
    from ellora.tools.loops.region import plan_region

    plan = plan_region(APPENDS, 1, 40, "mpi", mpi_root=root)
    assert len(plan.transformed) == 6, plan.left_serial()  # pairs have no MPI datatype
    assert any("no MPI datatype" in d.why for d in plan.serial), plan.left_serial()
    binary = build_mpi(tmp_path, _program(plan.source, "mpi", root))
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"
