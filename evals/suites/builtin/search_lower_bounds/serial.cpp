#include <cstddef>

void lowerBounds(std::size_t n, const double* sorted, std::size_t m, const double* queries,
                 std::size_t* out) {
  for (std::size_t q = 0; q < m; ++q) {
    std::size_t lo = 0, hi = n;
    while (lo < hi) {
      std::size_t mid = lo + (hi - lo) / 2;
      if (sorted[mid] < queries[q]) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    out[q] = lo;
  }
}
