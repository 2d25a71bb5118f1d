// Test driver for search_count_pairs_sum (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<int> x = c.random_ints<int>(n, 0, 200);
    long long result = 0;
    c.kernel([&] { result = countPairsWithSum(n, x.data(), 150); });
    c.output_scalar(static_cast<double>(result));
  });
}
