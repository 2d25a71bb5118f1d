#include <cstddef>

void jacobiSweep(std::size_t rows, const int* rowPtr, const int* cols, const double* vals,
                 const double* diag, const double* b, const double* xOld, double* xNew) {
  for (std::size_t i = 0; i < rows; ++i) {
    double sum = b[i];
    for (int k = rowPtr[i]; k < rowPtr[i + 1]; ++k) {
      sum -= vals[k] * xOld[cols[k]];
    }
    xNew[i] = sum / diag[i];
  }
}
