// Test driver for graph_edge_count (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

// A random symmetric adjacency matrix without self loops: each edge with probability p.
static std::vector<int> ellora_eval_graph(ellora::Case& c, std::size_t n, double p) {
  std::vector<int> A(n * n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      A[i * n + j] = A[j * n + i] = c.uniform() < p ? 1 : 0;
    }
  }
  return A;
}

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t n = c.size();
    std::vector<int> A = ellora_eval_graph(c, n, 0.3);
    long long result = 0;
    c.kernel([&] { result = edgeCount(n, A.data()); });
    c.output_scalar(static_cast<double>(result));
  });
}
