#include <cstddef>
#include <omp.h>

void histogram(std::size_t n, const double* x, std::size_t bins, long long* counts) {
  for (std::size_t b = 0; b < bins; ++b) {
    counts[b] = 0;
  }
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t b = static_cast<std::size_t>(x[i] * static_cast<double>(bins));
#pragma omp atomic
    counts[b] += 1;
  }
}
