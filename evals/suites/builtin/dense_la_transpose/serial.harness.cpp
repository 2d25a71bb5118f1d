// Test driver for dense_la_transpose (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t m = c.size(), n = c.size() + 1;
    std::vector<double> A = c.random_reals<double>(m * n);
    std::vector<double> B(m * n, 0.0);
    c.kernel([&] { transpose(m, n, A.data(), B.data()); });
    c.output(B);
  });
}
