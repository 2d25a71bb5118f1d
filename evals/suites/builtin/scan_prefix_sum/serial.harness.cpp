// Test driver for scan_prefix_sum (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> x = c.random_reals<double>(n, 0.0, 1.0), out(n, 0.0);
    c.kernel([&] { prefixSum(n, x.data(), out.data()); });
    c.output(out);
  });
}
