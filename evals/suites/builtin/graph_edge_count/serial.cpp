#include <cstddef>

long long edgeCount(std::size_t n, const int* A) {
  long long count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      count += A[i * n + j];
    }
  }
  return count;
}
