#include <cstddef>

double dot(std::size_t n, const double* x, const double* y) {
  double result = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    result += x[i] * y[i];
  }
  return result;
}
