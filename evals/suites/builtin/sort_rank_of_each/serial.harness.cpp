// Test driver for sort_rank_of_each (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<double>(i) + 0.5;
    std::shuffle(x.begin(), x.end(), c.rng());
    std::vector<std::size_t> out(n, 0);
    c.kernel([&] { ranks(n, x.data(), out.data()); });
    c.output(out);
  });
}
