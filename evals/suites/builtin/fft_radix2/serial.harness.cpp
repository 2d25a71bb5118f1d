// Test driver for fft_radix2 (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    std::size_t n = 1;
    while (n * 2 <= c.size()) n *= 2;
    std::vector<double> re0 = c.random_reals<double>(n), im0 = c.random_reals<double>(n);
    std::vector<double> re, im;
    c.kernel([&] { re = re0; im = im0; fft(n, re.data(), im.data()); });
    c.output(re);
    c.output(im);
  });
}
