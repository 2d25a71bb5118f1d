#include <cstddef>

void negateOddsHalveEvens(std::size_t n, int* x) {
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] % 2 != 0) {
      x[i] = -x[i];
    } else {
      x[i] = x[i] / 2;
    }
  }
}
