#include <cstddef>
#include <omp.h>

void jacobi2d(std::size_t n, const double* in, double* out) {
#pragma omp parallel for collapse(2) schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      if (i == 0 || j == 0 || i + 1 == n || j + 1 == n) {
        out[i * n + j] = in[i * n + j];
      } else {
        out[i * n + j] = (in[(i - 1) * n + j] + in[(i + 1) * n + j] + in[i * n + j - 1] +
                          in[i * n + j + 1] + in[i * n + j]) / 5.0;
      }
    }
  }
}
