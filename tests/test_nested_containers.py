"""Nested standard containers as C++ code writes them: ``a[i].size()`` bounding the inner
loop while row ``i`` is written, three levels of ``std::vector``, a row rebuilt or grown
(``adj[i].push_back(j)``) by its own iteration. A sub-object read or changed at the
iteration's own index is that iteration's; a row another iteration writes is a dependence.
Compared with the serial functions under OpenMP and Kokkos; MPI has no contiguous storage
to gather and says so."""

from __future__ import annotations

from loop_support import (
    build,
    build_kokkos,
    check_program,
    refusal,
    region_source,
    run_on_threads,
    serial_twins,
    verdict_of,
    verdict_over,
)

NESTED = """\
#include <cstddef>
#include <vector>
void scaleRows(std::vector<std::vector<double>>& a, double s) {
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < a[i].size(); ++j) a[i][j] *= s;
}
void scaleCube(std::vector<std::vector<std::vector<float>>>& c, float s) {
  for (std::size_t i = 0; i < c.size(); ++i)
    for (std::size_t j = 0; j < c[i].size(); ++j)
      for (std::size_t k = 0; k < c[i][j].size(); ++k) c[i][j][k] = c[i][j][k] * s + k;
}
void adjacency(const std::vector<int>& A, std::vector<std::vector<int>>& adj, int n) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (A[i * n + j]) adj[i].push_back(j);
}
void rebuild(std::vector<std::vector<double>>& rows, int m) {
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = std::vector<double>(m + i % 3, 1.0 * i);
}
"""

NAMES = ("scaleRows", "scaleCube", "adjacency", "rebuild")

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 5, 64, 301}) {
    std::vector<std::vector<double>> a(n), as;
    std::vector<std::vector<std::vector<float>>> c(n % 17), cs;
    std::vector<int> A(n * n);
    std::vector<std::vector<int>> adj(n), adjs(n);
    std::vector<std::vector<double>> rows(n), rowss;
    for (int i = 0; i < n; ++i) a[i].assign(i % 7 + 1, i * 0.5);
    for (std::size_t i = 0; i < c.size(); ++i) {
      c[i].resize(i % 4 + 1);
      for (std::size_t j = 0; j < c[i].size(); ++j) c[i][j].assign(j + 2, (float)(i + j));
    }
    for (int i = 0; i < n * n; ++i) A[i] = (i * 7) % 3 == 0;
    as = a; cs = c; rowss = rows;
    scaleRows(a, 1.5); serial_scaleRows(as, 1.5);
    scaleCube(c, 2.0f); serial_scaleCube(cs, 2.0f);
    adjacency(A, adj, n); serial_adjacency(A, adjs, n);
    rebuild(rows, 3); serial_rebuild(rowss, 3);
    same &= a == as && c == cs && adj == adjs && rows == rowss;
  }
  REPORT
}
"""


def _serial() -> str:
    return serial_twins(NESTED, NAMES, "#include <vector>\n")


def test_a_row_read_at_the_iterations_own_index_is_its_own():
    for position in range(4):
        verdict, _ = verdict_of(NESTED, position)
        assert verdict.parallel, (position, verdict.dependence)


def test_a_row_another_iteration_writes_is_a_dependence():
    source = ("#include <vector>\nvoid f(std::vector<std::vector<double>>& a) {\n"
              "  for (std::size_t i = 1; i < a.size(); ++i)\n"
              "    for (std::size_t j = 0; j < a[i - 1].size(); ++j) a[i][j] += 1.0;\n}\n")
    assert refusal(verdict_over(source, "i")[0]) == ("carried_array", "a")


def test_growing_a_row_through_a_pointer_element_is_not_its_own():
    source = ("#include <vector>\nvoid f(std::vector<std::vector<int>*>& rows, int n) {\n"
              "  for (int i = 0; i < n; ++i) rows[i]->push_back(i);\n}\n")
    verdict, _ = verdict_of(source, 0)
    assert not verdict.parallel  # two elements may point at one vector


def test_a_copied_range_is_read_whole():
    source = ("#include <vector>\nvoid f(std::vector<double>& x, "
              "std::vector<std::vector<double>>& out) {\n"
              "  for (std::size_t i = 0; i < out.size(); ++i) {\n"
              "    out[i] = std::vector<double>(x.begin(), x.end());\n    x[i] = 0;\n  }\n}\n")
    verdict, _ = verdict_of(source, 0)
    assert not verdict.parallel and "reads all of x" in str(verdict.dependence)


def test_nested_containers_equal_the_serial_code_on_threads(tmp_path):
    parallel = region_source(NESTED, 1, 40, "openmp")
    assert parallel.count("#pragma omp parallel for") == 4, parallel
    binary = build(tmp_path, check_program(parallel, _serial(), CHECK, "openmp"))
    for threads in (1, 2, 4):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_nested_containers_equal_the_serial_code_under_kokkos(tmp_path):
    parallel = region_source(NESTED, 1, 40, "kokkos")
    assert parallel.count("Kokkos::parallel_for") == 4, parallel
    binary = build_kokkos(tmp_path, check_program(parallel, _serial(), CHECK, "kokkos"))
    for threads in (1, 3):
        assert run_on_threads(binary, threads).split()[-1] == "1", f"{threads} threads"


def test_mpi_says_a_nested_container_has_no_contiguous_storage():
    from ellora.tools.loops.region import plan_region

    plan = plan_region(NESTED, 1, 40, "mpi")
    assert plan.source is None
    assert all("not one contiguous array" in d.why for d in plan.serial if d.line in (4, 8)), \
        plan.left_serial()
