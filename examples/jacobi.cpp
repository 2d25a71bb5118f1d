// One Jacobi sweep for the 2D Poisson problem -laplace(u) = f on an n x n grid (the smoother
// inside geometric multigrid, e.g. hypre's and AMReX's relaxation), boundary values fixed.
#include <cstddef>

void jacobi_sweep(int n, double h2, const double* __restrict__ u, const double* __restrict__ f,
                  double* __restrict__ unew) {
  for (int i = 1; i < n - 1; ++i) {
    for (int j = 1; j < n - 1; ++j) {
      unew[i * n + j] = 0.25 * (u[(i - 1) * n + j] + u[(i + 1) * n + j] + u[i * n + j - 1] +
                                u[i * n + j + 1] + h2 * f[i * n + j]);
    }
  }
}
