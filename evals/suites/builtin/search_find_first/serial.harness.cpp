// Test driver for search_find_first (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<int> x = c.random_ints<int>(n, 0, 1 << 30);
    if (n > 3) x[n - n / 4] = -5;
    std::size_t result = 0;
    c.kernel([&] { result = findFirst(n, x.data(), -5); });
    c.output_scalar(static_cast<double>(result));
  });
}
