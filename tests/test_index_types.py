"""Index variables of the types C++ code names them with: a container's ``size_type`` and
``difference_type``, the fixed-width and fast integer names. Each loop is read as counted
(unsigned or signed as the type is) and its OpenMP port equals the serial function."""

from __future__ import annotations

from loop_support import build, check_program, region_source, run_on_threads, serial_twins

INDEXED = """\
#include <cmath>
#include <cstdint>
#include <vector>
void decay(std::vector<double>& v) {
  for (std::vector<double>::size_type i = 0; i != v.size(); ++i) v[i] = std::exp(-v[i]);
}
void fromTheEnd(std::vector<int>& v) {
  for (std::vector<int>::difference_type i = (std::vector<int>::difference_type)v.size() - 1;
       i >= 0; --i)
    v[i] = 3 * v[i] + (int)i;
}
void fast(std::uint_fast32_t n, float* out) {
  for (std::uint_fast32_t k = 0; k < n; ++k) out[k] = 0.5f * k;
}
"""

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 9, 5000}) {
    std::vector<double> v(n), vs;
    std::vector<int> w(n), ws;
    std::vector<float> o(n, 1.0f), os(n, 1.0f);
    for (int i = 0; i < n; ++i) { v[i] = (i % 17) * 0.1; w[i] = i % 9 - 4; }
    vs = v; ws = w;
    decay(v); serial_decay(vs);
    fromTheEnd(w); serial_fromTheEnd(ws);
    fast(n, o.data()); serial_fast(n, os.data());
    same &= v == vs && w == ws && o == os;
  }
  REPORT
}
"""


def test_loops_over_named_index_types_equal_the_serial_code(tmp_path):
    parallel = region_source(INDEXED, 1, 20, "openmp")
    assert parallel.count("#pragma omp parallel for") == 3, parallel
    serial = serial_twins(INDEXED, ("decay", "fromTheEnd", "fast"), "#include <vector>\n")
    binary = build(tmp_path, check_program(parallel, serial, CHECK, "openmp"))
    for threads in (1, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"
