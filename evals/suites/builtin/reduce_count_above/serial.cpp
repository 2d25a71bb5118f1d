#include <cstddef>

std::size_t countAbove(std::size_t n, const double* x, double threshold) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] > threshold) {
      count += 1;
    }
  }
  return count;
}
