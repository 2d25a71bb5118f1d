// Differential test and timing harness for heat.cpp: --size is the number of grid points.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<double> u = c.random_reals<double>(n);
    std::vector<double> scratch = u;
    c.kernel([&] { heat_steps(n, 20, 0.25, u.data(), scratch.data()); });
    c.output(u);
  });
}
