"""C arrays of arrays passed as parameters (``double a[N][M]``): their rows lie one after
another, so the range a loop touches is one flat run (``i * M + j``) and two such arrays
are tested apart before the loop like two pointers. An in-place call (the same array twice)
runs the original loop. Compared with the serial functions at 1-3 threads."""

from __future__ import annotations

from loop_support import build, check_program, region_source, run_on_threads, serial_twins

ARRAYS = """\
#define N 48
#define M 40
void transposeInto(double a[N][M], double b[M][N]) {
  for (int i = 0; i < N; i++)
    for (int j = 0; j < M; j++) b[j][i] = a[i][j] * 2.0;
}
void shiftRows(double a[N][M], double b[N][M]) {
  for (int i = 1; i < N; i++)
    for (int j = 0; j < M; j++) b[i][j] = a[i - 1][j] + 1.0;
}
"""

CHECK = """
#include <cstdio>
#include <cstring>
static double A[N][M], B[M][N], C[N][M], As[N][M], Bs[M][N], Cs[N][M];
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < M; j++) As[i][j] = A[i][j] = (i * 31 + j * 7) % 17;
  transposeInto(A, B); serial_transposeInto(As, Bs);
  same &= std::memcmp(B, Bs, sizeof(B)) == 0;
  shiftRows(A, C); serial_shiftRows(As, Cs);
  same &= std::memcmp(C, Cs, sizeof(C)) == 0;
  shiftRows(A, A); serial_shiftRows(As, As);  // in place: each row reads the one above
  same &= std::memcmp(A, As, sizeof(A)) == 0;
  REPORT
}
"""


def test_c_arrays_of_arrays_are_tested_apart_and_equal_the_serial_code(tmp_path):
    parallel = region_source(ARRAYS, 1, 12, "openmp")
    assert parallel.count("#pragma omp parallel for") == 2, parallel
    assert "&a[0][0]" in parallel  # the flat start of the rows
    serial = serial_twins(ARRAYS, ("transposeInto", "shiftRows"), "#define M 40\n")
    binary = build(tmp_path, check_program(parallel, serial, CHECK, "openmp"))
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"
