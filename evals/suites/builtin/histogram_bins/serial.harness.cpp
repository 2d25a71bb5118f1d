// Test driver for histogram_bins (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size(), bins = 64;
    std::vector<double> x = c.random_reals<double>(n, 0.0, 0.999999);
    std::vector<long long> counts(bins, 0);
    c.kernel([&] { histogram(n, x.data(), bins, counts.data()); });
    c.output(counts);
  });
}
