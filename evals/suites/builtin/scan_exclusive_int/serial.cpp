#include <cstddef>

void exclusiveScan(std::size_t n, const int* x, long long* out) {
  long long running = 0;
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = running;
    running += x[i];
  }
}
