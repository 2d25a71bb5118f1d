#include <cstddef>

void transpose(std::size_t m, std::size_t n, const double* A, double* B) {
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      B[j * m + i] = A[i * n + j];
    }
  }
}
