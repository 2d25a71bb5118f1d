// Test driver for sparse_la_spmv_coo (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t rows = c.size() + 1, nnz = 8 * c.size();
    std::vector<int> r = c.random_ints<int>(nnz, 0, static_cast<int>(rows) - 1);
    std::vector<int> col = c.random_ints<int>(nnz, 0, static_cast<int>(rows) - 1);
    std::vector<double> vals = c.random_reals<double>(nnz), x = c.random_reals<double>(rows);
    std::vector<double> y(rows, 0.0);
    c.kernel([&] { spmvCoo(rows, nnz, r.data(), col.data(), vals.data(), x.data(), y.data()); });
    c.output(y);
  });
}
