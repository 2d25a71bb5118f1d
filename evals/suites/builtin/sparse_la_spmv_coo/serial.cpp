#include <cstddef>

void spmvCoo(std::size_t rows, std::size_t nnz, const int* rowIdx, const int* colIdx,
             const double* vals, const double* x, double* y) {
  for (std::size_t i = 0; i < rows; ++i) {
    y[i] = 0.0;
  }
  for (std::size_t k = 0; k < nnz; ++k) {
    y[rowIdx[k]] += vals[k] * x[colIdx[k]];
  }
}
