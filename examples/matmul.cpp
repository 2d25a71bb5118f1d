// Dense matrix-matrix product C += A B (n x n, row-major): a 3-deep loop nest, the inner
// kernel of blocked dense solvers (STRUMPACK, SuperLU's supernodal updates).
void matmul(int n, const double* __restrict__ a, const double* __restrict__ b,
            double* __restrict__ c) {
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < n; ++k) {
      for (int j = 0; j < n; ++j) {
        c[i * n + j] += a[i * n + k] * b[k * n + j];
      }
    }
  }
}
