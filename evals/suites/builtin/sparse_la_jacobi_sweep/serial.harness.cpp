// Test driver for sparse_la_jacobi_sweep (see tools/harness/ellora_harness.hpp): random inputs,
// the kernel, its outputs. Built with serial.cpp (reference) or a candidate.
#include "ellora_harness.hpp"
#include ELLORA_TARGET

int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    const std::size_t rows = c.size();
    std::vector<int> rowPtr(rows + 1, 0), per_row = c.random_ints<int>(rows, 0, 8);
    for (std::size_t i = 0; i < rows; ++i) rowPtr[i + 1] = rowPtr[i] + per_row[i];
    std::vector<int> cols = c.random_ints<int>(rowPtr[rows], 0, static_cast<int>(rows) - 1);
    std::vector<double> vals = c.random_reals<double>(rowPtr[rows]);
    std::vector<double> diag = c.random_reals<double>(rows, 10.0, 20.0);
    std::vector<double> b = c.random_reals<double>(rows), x = c.random_reals<double>(rows);
    std::vector<double> xNew(rows, 0.0);
    c.kernel([&] { jacobiSweep(rows, rowPtr.data(), cols.data(), vals.data(), diag.data(),
                               b.data(), x.data(), xNew.data()); });
    c.output(xNew);
  });
}
