"""Rows reached through pointers (``double**``, ``double* rows[]``, ``std::vector<double*>``):
row ``i`` is wherever ``a[i]`` points, so two rows may be one or lie inside another array the
loop reads. The parallel loop runs only when the spans the loop writes are apart from every
other span it touches, tested before the loop; shared rows and row views over a flat buffer
run the original loop. Compared with the serial functions under OpenMP and Kokkos, on
separate rows, shared rows and overlapping views."""

from __future__ import annotations

from loop_support import (
    build,
    build_and_run,
    build_kokkos,
    check_program,
    guard_check_program,
    region_source,
    run_on_threads,
    serial_twins,
    verdict_of,
)

ROWS = """\
#include <cstddef>
#include <vector>
void scaleRows(double** m, int rows, int cols, double s) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) m[i][j] = m[i][j] * s + j;
}
void fromFlat(double** a, const double* b, int n, int m) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) a[i][j] = b[i * m + j] * 2 + 1;
}
void viaVector(std::vector<float*>& rows, int cols) {
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (int j = 0; j < cols; ++j) rows[i][j] += (float)(i + j);
}
"""

NAMES = ("scaleRows", "fromFlat", "viaVector")

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 4, 33, 200}) {
    const int m = 3 + n % 5;
    for (int shape = 0; shape < 3; ++shape) {  // separate rows, shared rows, views of b
      std::vector<double> store((n + 2) * m), stores, b((n + 2) * m);
      for (int k = 0; k < (n + 2) * m; ++k) { store[k] = k % 13; b[k] = k % 7; }
      stores = store;
      std::vector<double> bs = b;
      std::vector<double*> rows(n), rowss(n);
      for (int i = 0; i < n; ++i) {
        const int r = shape == 1 ? i / 2 : i;  // shape 1: rows 2k and 2k + 1 are one
        rows[i] = shape == 2 ? b.data() + (i + 1) * m : store.data() + r * m;
        rowss[i] = shape == 2 ? bs.data() + (i + 1) * m : stores.data() + r * m;
      }
      scaleRows(rows.data(), n, m, 1.5); serial_scaleRows(rowss.data(), n, m, 1.5);
      same &= store == stores && b == bs;
      fromFlat(rows.data(), b.data(), n, m); serial_fromFlat(rowss.data(), bs.data(), n, m);
      same &= store == stores && b == bs;
      std::vector<std::vector<float>> fl(n, std::vector<float>(m, 1.0f)), fls = fl;
      std::vector<float*> fr(n), frs(n);
      for (int i = 0; i < n; ++i) {
        fr[i] = fl[shape == 1 ? i / 2 : i].data(); frs[i] = fls[shape == 1 ? i / 2 : i].data();
      }
      viaVector(fr, m); serial_viaVector(frs, m);
      same &= fl == fls;
    }
  }
  REPORT
}
"""


def _serial() -> str:
    return serial_twins(ROWS, NAMES, "#include <vector>\n")


def test_rows_through_pointers_are_tested_apart_before_the_loop():
    for position in range(3):
        verdict, _ = verdict_of(ROWS, position)
        assert verdict.parallel and verdict.row_checks, (position, verdict.dependence)
    flat, _ = verdict_of(ROWS, 1)
    assert set(flat.row_checks[0].bases) == {"a", "b"}  # a row may lie inside b


def test_the_test_fails_on_shared_rows_and_on_views_of_the_array_read(tmp_path):
    main = """
#include <cstdio>
int main() {
  std::vector<double> store(40), b(40);
  double* apart[4] = {store.data(), store.data() + 10, store.data() + 20, store.data() + 30};
  double* shared[4] = {store.data(), store.data(), store.data() + 20, store.data() + 30};
  double* views[4] = {b.data() + 10, b.data() + 20, b.data() + 30, store.data()};
  std::printf("%d %d %d\\n", check(apart, b.data(), 4, 10), check(shared, b.data(), 4, 10),
              check(views, b.data(), 4, 10));
}
"""
    program = guard_check_program(ROWS, "double** a, const double* b, int n, int m", main, 1)
    assert build_and_run(tmp_path, program).split() == ["1", "0", "0"]


def test_rows_through_pointers_equal_the_serial_code_on_threads(tmp_path):
    parallel = region_source(ROWS, 1, 20, "openmp")
    assert parallel.count("#pragma omp parallel for") == 3, parallel
    binary = build(tmp_path, check_program(parallel, _serial(), CHECK, "openmp"))
    for threads in (1, 2, 4):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_rows_through_pointers_equal_the_serial_code_under_kokkos(tmp_path):
    parallel = region_source(ROWS, 1, 20, "kokkos")
    binary = build_kokkos(tmp_path, check_program(parallel, _serial(), CHECK, "kokkos"))
    for threads in (1, 3):
        assert run_on_threads(binary, threads).split()[-1] == "1", f"{threads} threads"
