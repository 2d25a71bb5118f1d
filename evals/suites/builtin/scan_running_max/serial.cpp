#include <cstddef>

void runningMax(std::size_t n, const double* x, double* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = (i == 0 || x[i] > out[i - 1]) ? x[i] : out[i - 1];
  }
}
