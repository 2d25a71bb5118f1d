#include <cstddef>
#include <omp.h>

double dot(std::size_t n, const double* x, const double* y) {
  double result = 0.0;
#pragma omp parallel for reduction(+ : result)
  for (std::size_t i = 0; i < n; ++i) {
    result += x[i] * y[i];
  }
  return result;
}
