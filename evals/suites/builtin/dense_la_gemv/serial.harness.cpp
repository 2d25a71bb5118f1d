// Test driver for dense_la_gemv (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t m = c.size(), n = c.size() + 3;
    std::vector<double> A = c.random_reals<double>(m * n), x = c.random_reals<double>(n);
    std::vector<double> y(m, 0.0);
    c.kernel([&] { gemv(m, n, A.data(), x.data(), y.data()); });
    c.output(y);
  });
}
