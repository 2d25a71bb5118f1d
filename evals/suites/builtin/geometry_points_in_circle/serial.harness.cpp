// Test driver for geometry_points_in_circle (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> x = c.random_reals<double>(n), y = c.random_reals<double>(n);
    std::size_t result = 0;
    c.kernel([&] { result = countInCircle(n, x.data(), y.data(), 0.1, -0.2, 0.7); });
    c.output_scalar(static_cast<double>(result));
  });
}
