#include <cstddef>

std::size_t findFirst(std::size_t n, const int* x, int target) {
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] == target) {
      return i;
    }
  }
  return n;
}
