// Differential test and timing harness for matmul.cpp: --size N gives n = cbrt(N) so the work
// grows like N.
#include <cmath>

#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const int n = static_cast<int>(std::cbrt(static_cast<double>(c.size())));
    const std::size_t entries = static_cast<std::size_t>(n) * n;
    std::vector<double> a = c.random_reals<double>(entries);
    std::vector<double> b = c.random_reals<double>(entries);
    std::vector<double> out(entries, 0.0);
    c.kernel([&] { matmul(n, a.data(), b.data(), out.data()); });
    c.output(out);
  });
}
