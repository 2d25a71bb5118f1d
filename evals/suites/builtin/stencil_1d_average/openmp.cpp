#include <cstddef>
#include <omp.h>

void average3(std::size_t n, const double* x, double* out) {
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    double left = i > 0 ? x[i - 1] : 0.0;
    double right = i + 1 < n ? x[i + 1] : 0.0;
    out[i] = (left + x[i] + right) / 3.0;
  }
}
