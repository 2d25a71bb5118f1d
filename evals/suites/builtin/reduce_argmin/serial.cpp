#include <cstddef>

std::size_t argMin(std::size_t n, const double* x) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (x[i] < x[best]) {
      best = i;
    }
  }
  return best;
}
