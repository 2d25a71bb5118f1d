// Test driver for search_lower_bounds (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size(), m = c.size();
    std::vector<double> sorted = c.random_reals<double>(n), queries = c.random_reals<double>(m);
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::size_t> out(m, 0);
    c.kernel([&] { lowerBounds(n, sorted.data(), m, queries.data(), out.data()); });
    c.output(out);
  });
}
