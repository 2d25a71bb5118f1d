#include <cmath>
#include <cstddef>

double maxAbs(std::size_t n, const double* x) {
  double best = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double value = std::fabs(x[i]);
    if (value > best) {
      best = value;
    }
  }
  return best;
}
