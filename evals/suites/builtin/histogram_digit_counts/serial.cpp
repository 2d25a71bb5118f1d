#include <cstddef>

void digitCounts(std::size_t n, const int* x, long long counts[10]) {
  for (int d = 0; d < 10; ++d) {
    counts[d] = 0;
  }
  for (std::size_t i = 0; i < n; ++i) {
    counts[x[i] % 10] += 1;
  }
}
