// Test driver for transform_negate_odds (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<int> x0 = c.random_ints<int>(n, -1000, 1000), x;
    c.kernel([&] { x = x0; negateOddsHalveEvens(n, x.data()); });
    c.output(x);
  });
}
