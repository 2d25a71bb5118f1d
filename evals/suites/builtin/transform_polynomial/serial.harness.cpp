// Test driver for transform_polynomial (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> x = c.random_reals<double>(n), coef = c.random_reals<double>(17);
    std::vector<double> y(n, 0.0);
    c.kernel([&] { evalPolynomial(n, x.data(), coef.data(), 16, y.data()); });
    c.output(y);
  });
}
