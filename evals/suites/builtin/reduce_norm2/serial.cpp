#include <cmath>
#include <cstddef>

double norm2(std::size_t n, const double* x) {
  double squares = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    squares += x[i] * x[i];
  }
  return std::sqrt(squares);
}
