// Test driver for reduce_argmin (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<int> values = c.random_ints<int>(n, -1000, 1000);
    std::vector<double> x(values.begin(), values.end());
    std::size_t result = 0;
    c.kernel([&] { result = argMin(n, x.data()); });
    c.output_scalar(static_cast<double>(result));
  });
}
