// Test driver for stencil_heat_steps (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> u0 = c.random_reals<double>(n), u;
    c.kernel([&] { u = u0; heat1d(n, 20, u.data()); });
    c.output(u);
  });
}
