"""Arithmetic macros as C code writes its indexing: ``#define IDX(i, j, n) ((i) * (n) + (j))``
is read as its expansion, so ``B[IDX(i, j, n)]`` is row ``i`` of ``B`` and the loop is ported
(OpenMP, MPI) equal to the serial function. A macro that reads a variable it is not given,
or calls a function, stays a call of unknown effect."""

from __future__ import annotations

from loop_support import (
    build,
    build_mpi,
    check_program,
    refusal,
    region_source,
    run_on_ranks,
    run_on_threads,
    serial_twins,
    verdict_of,
)

MACROS = """\
#define IDX(i, j, n) ((i) * (n) + (j))
#define TWICE(x) (2 * (x))
#define W 3
void transpose2(int n, const double* A, double* B) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) B[IDX(i, j, n)] = TWICE(A[IDX(j, i, n)]);
}
void stripes(int n, float* s) {
  for (int k = 0; k < n; k++)
    for (int c = 0; c < W; c++) s[IDX(k, c, W)] = (float)(k - c);
}
"""

CHECK = """
#include <cstdio>
#include <vector>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 5, 130}) {
    std::vector<double> A(n * n), B(n * n, -1.0), Bs(n * n, -1.0);
    std::vector<float> s(n * W, 9.0f), ss(n * W, 9.0f);
    for (int k = 0; k < n * n; ++k) A[k] = (k * 13) % 29;
    transpose2(n, A.data(), B.data()); serial_transpose2(n, A.data(), Bs.data());
    stripes(n, s.data()); serial_stripes(n, ss.data());
    same &= B == Bs && s == ss;
  }
  REPORT
}
"""


def _serial() -> str:
    return serial_twins(MACROS, ("transpose2", "stripes"), "#define W 3\n")


def test_an_arithmetic_macro_is_read_as_its_expansion():
    verdict, _ = verdict_of(MACROS, 0)
    assert verdict.parallel, verdict.dependence
    assert [o.base for o in verdict.owned] == ["B"] and verdict.owned[0].stride is not None


def test_a_macro_that_reads_other_names_or_calls_stays_unknown():
    for body in ("((i) * n)", "(sqrt(i))"):
        source = (f"#define AT(i) {body}\nvoid f(int n, double* a) {{\n"
                  "  for (int i = 0; i < n; i++) a[AT(i)] = 1.0;\n}\n")
        assert refusal(verdict_of(source, 0)[0])[0] in ("call", "indirect_write"), body


def test_macro_indexed_loops_equal_the_serial_code(tmp_path):
    parallel = region_source(MACROS, 1, 14, "openmp")
    assert parallel.count("#pragma omp parallel for") == 2, parallel
    binary = build(tmp_path, check_program(parallel, _serial(), CHECK, "openmp"))
    for threads in (1, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"
    parallel = region_source(MACROS, 1, 14, "mpi")
    binary = build_mpi(tmp_path, check_program(parallel, _serial(), CHECK, "mpi"))
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"
