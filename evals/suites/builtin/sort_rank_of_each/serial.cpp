#include <algorithm>
#include <cstddef>
#include <vector>

void ranks(std::size_t n, const double* x, std::size_t* out) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) {
    order[i] = i;
  }
  std::sort(order.begin(), order.end(),
            [x](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  for (std::size_t r = 0; r < n; ++r) {
    out[order[r]] = r;
  }
}
