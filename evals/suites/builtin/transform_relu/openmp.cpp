#include <cstddef>
#include <omp.h>

void relu(std::size_t n, double* x) {
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] < 0.0) {
      x[i] = 0.0;
    }
  }
}
