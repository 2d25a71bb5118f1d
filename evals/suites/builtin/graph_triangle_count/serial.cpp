#include <cstddef>

long long triangleCount(std::size_t n, const int* A) {
  long long count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      if (A[i * n + j] == 0) {
        continue;
      }
      for (std::size_t k = j + 1; k < n; ++k) {
        count += A[i * n + k] & A[j * n + k];
      }
    }
  }
  return count;
}
