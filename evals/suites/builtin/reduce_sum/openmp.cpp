#include <cstddef>
#include <omp.h>

double sum(std::size_t n, const double* x) {
  double total = 0.0;
#pragma omp parallel for reduction(+ : total)
  for (std::size_t i = 0; i < n; ++i) {
    total += x[i];
  }
  return total;
}
