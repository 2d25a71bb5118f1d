#include <cstddef>

void luFactorize(std::size_t n, double* A) {
  for (std::size_t k = 0; k < n; ++k) {
    for (std::size_t i = k + 1; i < n; ++i) {
      double factor = A[i * n + k] / A[k * n + k];
      A[i * n + k] = factor;
      for (std::size_t j = k + 1; j < n; ++j) {
        A[i * n + j] -= factor * A[k * n + j];
      }
    }
  }
}
