// Test driver for reduce_count_above (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> x = c.random_reals<double>(n);
    std::size_t result = 0;
    c.kernel([&] { result = countAbove(n, x.data(), 0.25); });
    c.output_scalar(static_cast<double>(result));
  });
}
