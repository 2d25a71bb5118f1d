"""More standard algorithms in parallel, each from its contract: std::transform (one and two
inputs, in place), std::for_each, std::fill write each element once (OpenMP and Kokkos; a
range written while it partly overlaps its input runs the serial algorithm);
std::inner_product, std::transform_reduce, std::reduce are sums; std::min_element and
std::max_element return the first best element (ties go to the earliest). Compiled and run
against the serial code; the callables must not capture by reference or be mutable."""

import pytest
from loop_support import build_and_run, build_and_run_kokkos, build_mpi, region_source, run_on_ranks

READERS = """#include <algorithm>
#include <numeric>
#include <vector>
#include <cstdio>

long long dotInts(std::vector<int> const& a, std::vector<int> const& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0LL);
}
long long dotReduce(std::vector<int> const& a, std::vector<int> const& b) {
  return std::transform_reduce(a.begin(), a.end(), b.begin(), 7LL);
}
long long total(std::vector<long long> const& a) { return std::reduce(a.begin(), a.end()); }
long smallestAt(std::vector<int> const& a) {
  return std::min_element(a.begin(), a.end()) - a.begin();
}
long largestAt(std::vector<int> const& a) {
  return std::max_element(a.begin(), a.end()) - a.begin();
}
long largestByLastDigit(std::vector<int> const& a) {
  return std::max_element(a.begin(), a.end(), [](int x, int y) { return x % 10 < y % 10; })
         - a.begin();
}
"""

WRITERS = """
void square(std::vector<double>& v) {
  std::transform(v.begin(), v.end(), v.begin(), [](double x) { return x * x; });
}
void axpy(double a, std::vector<double> const& x, std::vector<double> const& y,
          std::vector<double>& z) {
  std::transform(x.begin(), x.end(), y.begin(), z.begin(),
                 [a](double xi, double yi) { return a * xi + yi; });
}
void shiftRight(std::vector<double>& v) {  // partly overlapping: kept serial at run time
  if (v.size() > 1)
    std::transform(v.begin(), v.end() - 1, v.begin() + 1, [](double x) { return x + 1; });
}
void halve(std::vector<double>& v) {
  std::for_each(v.begin(), v.end(), [](double& x) { x *= 0.5; });
}
void reset(std::vector<double>& v) { std::fill(v.begin(), v.end(), 2.5); }
"""

MAIN = """
int main() {
  for (int n : {0, 1, 7, 5000, 300000}) {
    std::vector<int> a(n), b(n);
    std::vector<long long> c(n);
    unsigned s = 12345u + n;
    for (int i = 0; i < n; ++i) {
      s = s * 1103515245u + 12345u; a[i] = (int)((s >> 8) % 1000) - 3;
      s = s * 1103515245u + 12345u; b[i] = (int)((s >> 8) % 100);
      c[i] = a[i] * 3LL;
    }
    std::printf("%d %lld %lld %lld %ld %ld %ld\\n", n, dotInts(a, b), dotReduce(a, b), total(c),
                smallestAt(a), largestAt(a), largestByLastDigit(a));
    WRITES
  }
}
"""

WRITES = """
    std::vector<double> v(n), x(n), y(n), z(n);
    for (int i = 0; i < n; ++i) { v[i] = (i % 17) - 8; x[i] = i % 5; y[i] = i % 3; }
    square(v); axpy(2.0, x, y, z); shiftRight(x); halve(y);
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += v[i] * 1 + z[i] * 3 + x[i] * 7 + y[i] * 11;
    reset(y);
    for (int i = 0; i < n; ++i) sum += y[i];
    std::printf("%.17g\\n", sum);"""


def _serial(source: str, main: str) -> str:
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "serial.cpp"
        path.write_text(source + main)
        subprocess.run(["g++", "-std=c++17", "-O2", "-o", f"{folder}/serial", str(path)],
                       check=True)
        return subprocess.run([f"{folder}/serial"], check=True, capture_output=True,
                              text=True).stdout


def _numbers(output: str) -> str:
    return "".join(line + "\n" for line in output.splitlines()
                   if line[:1].isdigit() or line[:1] == "-")


def test_the_calls_are_found_and_writers_only_for_shared_memory():
    from ellora.tools.loops.algorithms import algorithm_calls

    source = READERS + WRITERS
    found = [c.name for c in algorithm_calls(source, 1, 200, "openmp")]
    assert found.count("std::transform") == 3 and "std::for_each" in found
    assert "std::min_element" in found and found.count("std::max_element") == 2
    mpi = [c.name for c in algorithm_calls(source, 1, 200, "mpi")]
    assert "std::transform" not in mpi and "std::inner_product" in mpi
    shared = ("#include <algorithm>\n#include <vector>\nvoid f(std::vector<double>& v) {\n"
              "  std::transform(v.begin(), v.end(), v.begin(), [&](double x) { return x + v[0]; });\n"
              "  std::for_each(v.begin(), v.end(), [n = 0](double& x) mutable { x = n++; });\n}\n")
    assert algorithm_calls(shared, 1, 10, "openmp") == []


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_openmp_forms_give_the_serial_results(tmp_path, threads):
    source = READERS + WRITERS
    main = MAIN.replace("WRITES", WRITES)
    parallel = region_source(source, 1, 200, "openmp")
    assert "ellora_parallel_transform(" in parallel and "ellora_parallel_max_element(" in parallel
    assert build_and_run(tmp_path, parallel + main, threads) == _serial(source, main)


def test_kokkos_forms_give_the_serial_results(tmp_path):
    source = READERS + WRITERS
    main = MAIN.replace("WRITES", WRITES).replace(
        "int main() {", "int main(int argc, char** argv) {\n  Kokkos::ScopeGuard scope(argc, argv);")
    parallel = region_source(source, 1, 200, "kokkos")
    assert _numbers(build_and_run_kokkos(tmp_path, parallel + main, 2)) == \
        _serial(source, MAIN.replace("WRITES", WRITES))


def test_mpi_forms_give_the_serial_results_on_every_rank(tmp_path):
    main = MAIN.replace("WRITES", "").replace(
        "int main() {", "int main(int argc, char** argv) {\n  MPI_Init(&argc, &argv);").replace(
        "\n}\n", "\n  MPI_Finalize();\n}\n")
    parallel = region_source(READERS, 1, 200, "mpi")
    output = run_on_ranks(build_mpi(tmp_path, parallel + main), 3)
    serial = _serial(READERS, MAIN.replace("WRITES", ""))
    assert sorted(output.splitlines()) == sorted(serial.splitlines() * 3)
