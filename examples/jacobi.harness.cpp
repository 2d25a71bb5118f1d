// Differential test and timing harness for jacobi.cpp: --size is the number of grid points.
#include <cmath>

#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const int n = static_cast<int>(std::sqrt(static_cast<double>(c.size()))) + 2;
    const std::size_t points = static_cast<std::size_t>(n) * n;
    std::vector<double> u = c.random_reals<double>(points);
    std::vector<double> f = c.random_reals<double>(points);
    std::vector<double> unew = u;
    c.kernel([&] { jacobi_sweep(n, 1.0 / ((n - 1.0) * (n - 1.0)), u.data(), f.data(), unew.data()); });
    c.output(unew);
  });
}
