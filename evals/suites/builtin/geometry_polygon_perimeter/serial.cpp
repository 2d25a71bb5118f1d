#include <cmath>
#include <cstddef>

double polygonPerimeter(std::size_t n, const double* x, const double* y) {
  if (n < 2) {
    return 0.0;
  }
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t j = (i + 1) % n;
    double dx = x[j] - x[i], dy = y[j] - y[i];
    total += std::sqrt(dx * dx + dy * dy);
  }
  return total;
}
