#include <cstddef>

void degrees(std::size_t n, const int* A, int* deg) {
  for (std::size_t i = 0; i < n; ++i) {
    int d = 0;
    for (std::size_t j = 0; j < n; ++j) {
      d += A[i * n + j];
    }
    deg[i] = d;
  }
}
