// Differential test and timing harness for histogram.cpp (counts are exact, so any lost
// update from a race shows).
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> x = c.random_reals<double>(n);
    const int nbins = 64;
    std::vector<int> bins(nbins, 0);
    c.kernel([&] { histogram(n, x.data(), nbins, bins.data()); });
    c.output(bins);
  });
}
