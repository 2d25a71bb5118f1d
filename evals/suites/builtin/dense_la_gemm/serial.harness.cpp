// Test driver for dense_la_gemm (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> A = c.random_reals<double>(n * n), B = c.random_reals<double>(n * n);
    std::vector<double> C(n * n, 0.0);
    c.kernel([&] { gemm(n, A.data(), B.data(), C.data()); });
    c.output(C);
  });
}
