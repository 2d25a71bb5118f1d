// Differential test and timing harness for saxpy.cpp (see tools/harness/ellora_harness.hpp).
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<float> x = c.random_reals<float>(n);
    std::vector<float> y = c.random_reals<float>(n);
    c.kernel([&] { saxpy(n, 2.5f, x.data(), y.data()); });
    c.output(y);
  });
}
