#include <cstddef>
#include <vector>

void heat1d(std::size_t n, int steps, double* u) {
  std::vector<double> next(u, u + n);
  for (int s = 0; s < steps; ++s) {
    for (std::size_t i = 1; i + 1 < n; ++i) {
      next[i] = u[i] + 0.25 * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
    }
    for (std::size_t i = 1; i + 1 < n; ++i) {
      u[i] = next[i];
    }
  }
}
