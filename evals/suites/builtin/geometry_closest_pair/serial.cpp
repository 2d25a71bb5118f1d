#include <cmath>
#include <cstddef>
#include <limits>

double closestPairDistance(std::size_t n, const double* x, const double* y) {
  double best = std::numeric_limits<double>::max();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      double dx = x[i] - x[j], dy = y[i] - y[j];
      double d = std::sqrt(dx * dx + dy * dy);
      if (d < best) {
        best = d;
      }
    }
  }
  return best;
}
