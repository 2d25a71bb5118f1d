#include <cstddef>
#include <vector>

void bfsDistances(std::size_t n, const int* A, int* dist) {
  for (std::size_t v = 0; v < n; ++v) {
    dist[v] = -1;
  }
  if (n == 0) {
    return;
  }
  std::vector<std::size_t> frontier{0};
  dist[0] = 0;
  while (!frontier.empty()) {
    std::vector<std::size_t> next;
    for (std::size_t u : frontier) {
      for (std::size_t v = 0; v < n; ++v) {
        if (A[u * n + v] && dist[v] < 0) {
          dist[v] = dist[u] + 1;
          next.push_back(v);
        }
      }
    }
    frontier.swap(next);
  }
}
