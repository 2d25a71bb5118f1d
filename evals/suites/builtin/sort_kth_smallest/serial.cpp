#include <algorithm>
#include <cstddef>
#include <vector>

double kthSmallest(std::size_t n, const double* x, std::size_t k) {
  std::vector<double> copy(x, x + n);
  std::sort(copy.begin(), copy.end());
  return copy[k - 1];
}
