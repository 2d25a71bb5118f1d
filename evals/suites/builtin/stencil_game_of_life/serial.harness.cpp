// Test driver for stencil_game_of_life (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<int> in = c.random_ints<int>(n * n, 0, 1), out(n * n, 0);
    c.kernel([&] { lifeStep(n, in.data(), out.data()); });
    c.output(out);
  });
}
