#include <cstddef>

long long countPairsWithSum(std::size_t n, const int* x, int target) {
  long long count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      if (x[i] + x[j] == target) {
        count += 1;
      }
    }
  }
  return count;
}
