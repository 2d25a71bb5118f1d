#include <cstddef>

void normalize(std::size_t n, double* x) {
  if (n == 0) {
    return;
  }
  double lo = x[0], hi = x[0];
  for (std::size_t i = 1; i < n; ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  double range = hi - lo;
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = range > 0.0 ? (x[i] - lo) / range : 0.0;
  }
}
