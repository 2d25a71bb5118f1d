#include <cstddef>
#include <omp.h>

std::size_t countInCircle(std::size_t n, const double* x, const double* y, double cx,
                          double cy, double r) {
  std::size_t count = 0;
#pragma omp parallel for reduction(+ : count)
  for (std::size_t i = 0; i < n; ++i) {
    double dx = x[i] - cx, dy = y[i] - cy;
    if (dx * dx + dy * dy <= r * r) {
      count += 1;
    }
  }
  return count;
}
