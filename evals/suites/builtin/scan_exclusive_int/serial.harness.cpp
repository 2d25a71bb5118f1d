// Test driver for scan_exclusive_int (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<int> x = c.random_ints<int>(n, -50, 100);
    std::vector<long long> out(n, 0);
    c.kernel([&] { exclusiveScan(n, x.data(), out.data()); });
    c.output(out);
  });
}
