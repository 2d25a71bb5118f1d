#include <cstddef>

void prefixSum(std::size_t n, const double* x, double* out) {
  double running = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    running += x[i];
    out[i] = running;
  }
}
