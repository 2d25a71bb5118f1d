// Histogram of values in [-1, 1) into nbins bins, as in particle binning and sorting
// (AMReX particle redistribution, Monte Carlo tallies).
#include <cstddef>

void histogram(std::size_t n, const double* x, int nbins, int* bins) {
  for (std::size_t i = 0; i < n; ++i) {
    int b = static_cast<int>((x[i] + 1.0) * 0.5 * nbins);
    if (b >= nbins) b = nbins - 1;
    if (b < 0) b = 0;
    bins[b] += 1;
  }
}
