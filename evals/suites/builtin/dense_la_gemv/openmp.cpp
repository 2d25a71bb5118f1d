#include <cstddef>
#include <omp.h>

void gemv(std::size_t m, std::size_t n, const double* A, const double* x, double* y) {
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < m; ++i) {
    double sum = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      sum += A[i * n + j] * x[j];
    }
    y[i] = sum;
  }
}
