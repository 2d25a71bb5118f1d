// Test driver for dense_la_lu_decomp (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> A0 = c.random_reals<double>(n * n);
    for (std::size_t i = 0; i < n; ++i) A0[i * n + i] += 2.0 * static_cast<double>(n);
    std::vector<double> A;
    c.kernel([&] { A = A0; luFactorize(n, A.data()); });
    c.output(A);
  });
}
