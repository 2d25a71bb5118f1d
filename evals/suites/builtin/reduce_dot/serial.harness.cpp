// Test driver for reduce_dot (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> x = c.random_reals<double>(n), y = c.random_reals<double>(n);
    double result = 0.0;
    c.kernel([&] { result = dot(n, x.data(), y.data()); });
    c.output_scalar(result);
  });
}
