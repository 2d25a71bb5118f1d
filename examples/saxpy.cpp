// SAXPY (y = a*x + y), the BLAS level-1 kernel at the heart of many iterative solvers.
#include <cstddef>

void saxpy(std::size_t n, float a, const float* x, float* y) {
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = a * x[i] + y[i];
  }
}
