// Test driver for sparse_la_spmv_csr (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t rows = c.size(), cols_n = c.size() + 5;
    std::vector<int> rowPtr(rows + 1, 0), per_row = c.random_ints<int>(rows, 0, 16);
    for (std::size_t i = 0; i < rows; ++i) rowPtr[i + 1] = rowPtr[i] + per_row[i];
    std::vector<int> cols = c.random_ints<int>(rowPtr[rows], 0, static_cast<int>(cols_n) - 1);
    std::vector<double> vals = c.random_reals<double>(rowPtr[rows]);
    std::vector<double> x = c.random_reals<double>(cols_n), y(rows, 0.0);
    c.kernel([&] { spmvCsr(rows, rowPtr.data(), cols.data(), vals.data(), x.data(), y.data()); });
    c.output(y);
  });
}
