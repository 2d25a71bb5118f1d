// Differential test and timing harness for spmv.cpp: a random matrix with up to 16 nonzeros
// per row; --size is about the number of nonzeros (rows = size / 8).
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const int nrows = static_cast<int>((c.size() + 7) / 8);
    std::vector<int> row_ptr(nrows + 1, 0);
    std::vector<int> per_row = c.random_ints<int>(nrows, 1, 16);
    for (int r = 0; r < nrows; ++r) row_ptr[r + 1] = row_ptr[r] + per_row[r];
    std::vector<int> cols = c.random_ints<int>(row_ptr[nrows], 0, nrows > 0 ? nrows - 1 : 0);
    std::vector<double> vals = c.random_reals<double>(row_ptr[nrows]);
    std::vector<double> x = c.random_reals<double>(nrows);
    std::vector<double> y(nrows, 0.0);
    c.kernel([&] { spmv_csr(nrows, row_ptr.data(), cols.data(), vals.data(), x.data(), y.data()); });
    c.output(y);
  });
}
