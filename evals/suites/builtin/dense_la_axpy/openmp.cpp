#include <cstddef>
#include <omp.h>

void axpy(std::size_t n, double alpha, const double* x, const double* y, double* z) {
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    z[i] = alpha * x[i] + y[i];
  }
}
