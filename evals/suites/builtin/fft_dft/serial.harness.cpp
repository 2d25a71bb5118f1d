// Test driver for fft_dft (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> re = c.random_reals<double>(n), im = c.random_reals<double>(n);
    std::vector<double> outRe(n, 0.0), outIm(n, 0.0);
    c.kernel([&] { dft(n, re.data(), im.data(), outRe.data(), outIm.data()); });
    c.output(outRe);
    c.output(outIm);
  });
}
