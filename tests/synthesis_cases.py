"""Functions with no harness, each with a correct OpenMP port and deliberately wrong ones
(an off-by-one bound, a missing reduction, a race from a removed private copy or atomic, a
dropped write, a wrong index), for the synthesized differential test. Each case is
``(name, original, {"correct": source, mutant name: source, ...})``."""

from __future__ import annotations

AXPY = """#include <vector>

void axpy(double a, const std::vector<double>& x, std::vector<double>& y) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    y[i] = a * x[i] + y[i];
  }
}
"""

DOT = """#include <cstddef>

double dot(std::size_t n, const double* x, const double* y) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    sum += x[i] * y[i];
  }
  return sum;
}
"""

HISTOGRAM = """#include <array>
#include <cstddef>
#include <vector>

void pixel_counts(const std::vector<int>& image, std::array<std::size_t, 256>& bins) {
  for (std::size_t i = 0; i < image.size(); ++i) {
    bins[image[i]]++;
  }
}
"""

POINTS = """#include <cstddef>
#include <vector>

struct Point {
  double x, y;
};

std::size_t count_near(const std::vector<Point>& points, double radius) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (points[i].x * points[i].x + points[i].y * points[i].y < radius * radius) {
      ++count;
    }
  }
  return count;
}
"""

FIELD = """#include <vector>

struct Field {
  std::vector<double> values;
  int n;
};

void scale_field(Field& f, double a) {
  for (int i = 0; i < f.n; ++i) {
    f.values[i] = a * f.values[i];
  }
}
"""

GEMM = """#include <cstddef>
#include <vector>

void gemm(const std::vector<double>& A, const std::vector<double>& B, std::vector<double>& C,
          std::size_t M, std::size_t K, std::size_t N) {
  for (std::size_t i = 0; i < M; ++i) {
    for (std::size_t j = 0; j < N; ++j) {
      double sum = 0;
      for (std::size_t k = 0; k < K; ++k) {
        sum += A[i * K + k] * B[k * N + j];
      }
      C[i * N + j] = sum;
    }
  }
}
"""

SMOOTH = """#include <vector>

void smooth3(int n, const double* x, double* y) {
  std::vector<double> window(3);
  for (int i = 1; i < n - 1; ++i) {
    window[0] = x[i - 1];
    window[1] = x[i];
    window[2] = x[i + 1];
    y[i] = 0.0;
    for (int k = 0; k < 3; ++k) {
      y[i] += window[k] * (k + 1);
    }
  }
}
"""

CSR = """void spmv(int rows, const int* row_ptr, const int* cols, const double* vals,
          const double* x, double* y) {
  for (int r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (int k = row_ptr[r]; k < row_ptr[r + 1]; ++k) {
      sum += vals[k] * x[cols[k]];
    }
    y[r] = sum;
  }
}
"""

ROWS = """#include <cstddef>
#include <vector>

void row_sums(const std::vector<std::vector<double>>& a, std::vector<double>& out) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    double t = 0.0;
    for (std::size_t j = 0; j < a[i].size(); ++j) {
      t += a[i][j] * (double)(j + 1);
    }
    out[i] = t;
  }
}
"""

PRAGMA = "#pragma omp parallel for"


def _port(source: str, loop: str, pragma: str = PRAGMA) -> str:
    """``source`` with ``pragma`` put before the first line containing ``loop``."""
    head, found, tail = source.partition(loop)
    assert found, loop
    indent = head[head.rfind("\n") + 1:]
    return head[: head.rfind("\n") + 1] + indent + pragma + "\n" + indent + found + tail


def _both(source: str, old: str, new: str) -> str:
    assert old in source, old
    return source.replace(old, new)


AXPY_LOOP = "for (std::size_t i = 0; i < x.size(); ++i)"
DOT_LOOP = "for (std::size_t i = 0; i < n; ++i)"
HIST_LOOP = "for (std::size_t i = 0; i < image.size(); ++i)"
POINTS_LOOP = "for (std::size_t i = 0; i < points.size(); ++i)"
FIELD_LOOP = "for (int i = 0; i < f.n; ++i)"
GEMM_LOOP = "for (std::size_t i = 0; i < M; ++i)"
SMOOTH_LOOP = "for (int i = 1; i < n - 1; ++i)"
CSR_LOOP = "for (int r = 0; r < rows; ++r)"
ROWS_LOOP = "for (std::size_t i = 0; i < a.size(); ++i)"

CASES = [
    ("vector const& + vector&", AXPY, {
        "correct": _port(AXPY, AXPY_LOOP),
        "off-by-one bound": _port(_both(AXPY, AXPY_LOOP,
                                        "for (std::size_t i = 0; i < x.size() - 1; ++i)"),
                                  "for (std::size_t i = 0; i < x.size() - 1"),
        "dropped write": _port(_both(AXPY, "    y[i] = a * x[i] + y[i];",
                                     "    if (i % 2 == 0) y[i] = a * x[i] + y[i];"), AXPY_LOOP),
    }),
    ("raw pointers + size, returned reduction", DOT, {
        "correct": _port(DOT, DOT_LOOP, PRAGMA + " reduction(+:sum)"),
        "missing reduction": _port(DOT, DOT_LOOP),
        "off-by-one start": _port(_both(DOT, DOT_LOOP,
                                        "for (std::size_t i = 1; i < n; ++i)"),
                                  "for (std::size_t i = 1"),
    }),
    ("std::array histogram", HISTOGRAM, {
        "correct": _port(_both(HISTOGRAM, "    bins[image[i]]++;",
                               "    #pragma omp atomic\n    bins[image[i]]++;"), HIST_LOOP),
        "race (atomic removed)": _port(HISTOGRAM, HIST_LOOP),
        "wrong index": _port(_both(HISTOGRAM, "bins[image[i]]++;",
                                   "#pragma omp atomic\n    bins[image[i] / 2]++;"), HIST_LOOP),
    }),
    ("vector<Point>, returned count", POINTS, {
        "correct": _port(POINTS, POINTS_LOOP, PRAGMA + " reduction(+:count)"),
        "missing reduction": _port(POINTS, POINTS_LOOP),
        "wrong member": _port(_both(POINTS, "points[i].y * points[i].y",
                                    "points[i].x * points[i].y"), POINTS_LOOP,
                              PRAGMA + " reduction(+:count)"),
    }),
    ("struct with a vector member", FIELD, {
        "correct": _port(FIELD, FIELD_LOOP),
        "off-by-one bound": _port(_both(FIELD, FIELD_LOOP, "for (int i = 0; i < f.n - 1; ++i)"),
                                  "for (int i = 0; i < f.n - 1"),
    }),
    ("2-D row-major M, K, N", GEMM, {
        "correct": _port(GEMM, GEMM_LOOP),
        "wrong index (N for K)": _port(_both(GEMM, "A[i * K + k]", "A[i * N + k]"), GEMM_LOOP),
        "wrong bound (M for N)": _port(_both(GEMM, "j < N", "j < M"), GEMM_LOOP),
    }),
    ("scratch buffer per iteration", SMOOTH, {
        "correct": _port(SMOOTH, SMOOTH_LOOP, PRAGMA + " firstprivate(window)"),
        "race (private copy removed)": _port(SMOOTH, SMOOTH_LOOP),
    }),
    ("CSR index arrays", CSR, {
        "correct": _port(CSR, CSR_LOOP),
        "wrong index (k for cols[k])": _port(_both(CSR, "x[cols[k]]", "x[k % (rows + 1)]"),
                                             CSR_LOOP),
    }),
    ("rows of a vector<vector> bounded by their own size", ROWS, {
        "correct": _port(ROWS, ROWS_LOOP),
        "off-by-one row end": _port(_both(ROWS, "j < a[i].size()", "j + 1 < a[i].size()"),
                                    ROWS_LOOP),
    }),
]
