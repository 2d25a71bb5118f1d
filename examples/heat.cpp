// Explicit time stepping of the 1D heat equation u_t = alpha u_xx (fixed ends), the pattern
// of a mini-app's main loop: the step loop carries the solution from one step to the next,
// the loops over the grid inside it are parallel. The buffers come in as plain pointers, as
// they do from a C API: nothing tells the compiler they do not overlap.
#include <cstddef>

void heat_steps(std::size_t n, int steps, double alpha, double* u, double* scratch) {
  for (int s = 0; s < steps; ++s) {
    for (std::size_t i = 1; i + 1 < n; ++i) {
      scratch[i] = u[i] + alpha * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
    }
    for (std::size_t i = 1; i + 1 < n; ++i) {
      u[i] = scratch[i];
    }
  }
}
