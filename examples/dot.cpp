// Dot product, the reduction inside every Krylov solver's inner products.
#include <cstddef>

double dot(std::size_t n, const double* x, const double* y) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    sum += x[i] * y[i];
  }
  return sum;
}
