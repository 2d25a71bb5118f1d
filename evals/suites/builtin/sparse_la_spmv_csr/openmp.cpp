#include <cstddef>
#include <omp.h>

void spmvCsr(std::size_t rows, const int* rowPtr, const int* cols, const double* vals,
             const double* x, double* y) {
#pragma omp parallel for schedule(dynamic, 256)
  for (std::size_t i = 0; i < rows; ++i) {
    double sum = 0.0;
    for (int k = rowPtr[i]; k < rowPtr[i + 1]; ++k) {
      sum += vals[k] * x[cols[k]];
    }
    y[i] = sum;
  }
}
