#include <cstddef>

void lifeStep(std::size_t n, const int* in, int* out) {
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      int alive = 0;
      for (int di = -1; di <= 1; ++di) {
        for (int dj = -1; dj <= 1; ++dj) {
          long r = static_cast<long>(i) + di, s = static_cast<long>(j) + dj;
          if ((di != 0 || dj != 0) && r >= 0 && s >= 0 && r < static_cast<long>(n) &&
              s < static_cast<long>(n)) {
            alive += in[r * static_cast<long>(n) + s];
          }
        }
      }
      int self = in[i * n + j];
      out[i * n + j] = (alive == 3 || (self == 1 && alive == 2)) ? 1 : 0;
    }
  }
}
