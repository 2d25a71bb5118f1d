// Test driver for transform_relu (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> x0 = c.random_reals<double>(n), x = x0;
    c.kernel([&] { relu(n, x.data()); });
    c.output(x);
  });
}
