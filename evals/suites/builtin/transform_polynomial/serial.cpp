#include <cstddef>

void evalPolynomial(std::size_t n, const double* x, const double* coef, int degree, double* y) {
  for (std::size_t i = 0; i < n; ++i) {
    double value = 0.0;
    for (int d = degree; d >= 0; --d) {
      value = value * x[i] + coef[d];
    }
    y[i] = value;
  }
}
