// Test driver for histogram_digit_counts (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<int> x = c.random_ints<int>(n, 0, 1000000);
    std::vector<long long> counts(10, 0);
    c.kernel([&] { digitCounts(n, x.data(), counts.data()); });
    c.output(counts);
  });
}
