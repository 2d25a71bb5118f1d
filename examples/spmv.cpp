// Sparse matrix-vector product y = A x with A in CSR format, the kernel of every Krylov
// solver (PETSc's MatMult_SeqAIJ, hypre's CSR matvec, Trilinos' Tpetra::CrsMatrix::apply).
void spmv_csr(int nrows, const int* __restrict__ row_ptr, const int* __restrict__ cols,
              const double* __restrict__ vals, const double* __restrict__ x,
              double* __restrict__ y) {
  for (int row = 0; row < nrows; ++row) {
    double sum = 0.0;
    for (int k = row_ptr[row]; k < row_ptr[row + 1]; ++k) {
      sum += vals[k] * x[cols[k]];
    }
    y[row] = sum;
  }
}
