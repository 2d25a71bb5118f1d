"""Standard algorithm calls (std::find, std::count, std::accumulate, std::any_of, ...) in
parallel, and if-converted stores: each compiled and run against the serial code."""

import pytest
from loop_support import (
    build_and_run,
    build_and_run_kokkos,
    build_mpi,
    region_source,
    run_on_ranks,
)

ALGORITHMS = """#include <algorithm>
#include <numeric>
#include <vector>
#include <string>
#include <cstdio>

bool contains(std::vector<int> const& x, int target) {
  return std::find(x.begin(), x.end(), target) != x.end();
}
long first_position(std::vector<int> const& x, int target) {
  return std::find(x.begin(), x.end(), target) - x.begin();
}
long evens(std::vector<int> const& x) {
  return std::count_if(x.begin(), x.end(), [](int v) { return v % 2 == 0; });
}
long sevens(std::vector<int> const& x) { return std::count(x.begin(), x.end(), 7); }
long total(std::vector<int> const& x) { return std::accumulate(x.begin(), x.end(), 5L); }
bool any_negative(std::vector<int> const& x) {
  return std::any_of(x.begin(), x.end(), [](int v) { return v < 0; });
}
bool all_small(std::vector<int> const& x) {
  return std::all_of(x.begin(), x.end(), [](int v) { return v < 1000; });
}
bool all_bounded(std::vector<int> const& x) {  // true: every block is scanned to its end
  return std::all_of(x.begin(), x.end(), [](int v) { return v < 2000; });
}
"""
MAIN = """
int main() {
  for (int n : {0, 1, 7, 5000, 300000}) {
    std::vector<int> x(n);
    unsigned s = 12345u + n;
    for (auto& v : x) { s = s * 1103515245u + 12345u; v = (int)((s >> 8) % 2000) - 3; }
    const int target = n > 3 ? x[n - 3] : 9;  // a late match (and an early one for small n)
    std::printf("%d %d %ld %ld %ld %ld %d %d\\n", n, contains(x, target),
                first_position(x, target), evens(x), sevens(x), total(x), any_negative(x),
                all_small(x));
    std::printf("-1 %d %ld %d\\n", contains(x, 5000), first_position(x, 5000),
                all_bounded(x));  // no match: every window, every block to its end
  }
}
"""


def _serial() -> str:
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "serial.cpp"
        source.write_text(ALGORITHMS + MAIN)
        subprocess.run(["g++", "-std=c++17", "-O2", "-o", f"{folder}/serial", str(source)],
                       check=True)
        return subprocess.run([f"{folder}/serial"], check=True, capture_output=True,
                              text=True).stdout


def _numbers(output: str) -> str:
    """The program's own lines (Kokkos prints its initialization warnings first)."""
    return "".join(line + "\n" for line in output.splitlines()
                   if line[:1].isdigit() or line[:1] == "-")


def test_algorithm_calls_are_found_and_pure_predicates_only():
    from ellora.tools.loops.algorithms import algorithm_calls

    found = [c.name for c in algorithm_calls(ALGORITHMS, 1, 100)]
    assert found == ["std::find", "std::find", "std::count_if", "std::count",
                     "std::accumulate", "std::any_of", "std::all_of", "std::all_of"]
    impure = ("#include <algorithm>\n#include <vector>\nint hits = 0;\n"
              "long f(std::vector<int> const& x) { return std::count_if(x.begin(), x.end(), "
              "[&](int v) { hits++; return v > 0; }); }\n")
    assert algorithm_calls(impure, 1, 10) == []


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_openmp_algorithms_give_the_serial_results(tmp_path, threads):
    parallel = region_source(ALGORITHMS, 1, 100, "openmp")
    assert "ellora_parallel_find(" in parallel and "std::find(x.begin()" not in parallel
    assert build_and_run(tmp_path, parallel + MAIN, threads) == _serial()


def test_kokkos_algorithms_give_the_serial_results(tmp_path):
    parallel = region_source(ALGORITHMS, 1, 100, "kokkos")
    main = MAIN.replace("int main() {", "int main(int argc, char** argv) {\n"
                        "  Kokkos::ScopeGuard scope(argc, argv);")
    assert _numbers(build_and_run_kokkos(tmp_path, parallel + main, 2)) == _serial()


def test_mpi_algorithms_give_the_serial_results_on_every_rank(tmp_path):
    parallel = region_source(ALGORITHMS, 1, 100, "mpi")
    main = MAIN.replace("int main() {", "int main(int argc, char** argv) {\n"
                        "  MPI_Init(&argc, &argv);").replace(
        "\n}\n", "\n  MPI_Finalize();\n}\n")
    output = run_on_ranks(build_mpi(tmp_path, parallel + main), 3)
    serial = _serial()
    # every rank prints the serial lines (interleaved in any order)
    assert sorted(output.splitlines()) == sorted(serial.splitlines() * 3)


IF_STORES = """#include <vector>
#include <cstdio>
void relu(std::vector<double>& x) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] < 0) {
      x[i] = 0;
    }
  }
}
void halve_or_negate(std::vector<int>& x) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] % 2 == 0) x[i] /= 2;
    else x[i] = -x[i];
  }
}
int main() {
  std::vector<double> a(100001);
  std::vector<int> b(100001);
  for (std::size_t i = 0; i < a.size(); ++i) { a[i] = (i * 7919 % 201) - 100.0; b[i] = (int)(i * 31 % 97) - 40; }
  relu(a); halve_or_negate(b);
  double s = 0; long t = 0;
  for (std::size_t i = 0; i < a.size(); ++i) { s += a[i] * (i % 13); t += b[i] * (long)(i % 11); }
  std::printf("%.6f %ld\\n", s, t);
}
"""


@pytest.mark.parametrize("target", ["openmp", "kokkos"])
def test_if_converted_stores_give_the_serial_results(tmp_path, target):
    from ellora.tools.loops.region import plan_region

    plan = plan_region(IF_STORES, 1, 17, target, if_convert=True)
    assert all(d.conditional_stores for d in plan.transformed)
    element = "x[i]" if target == "openmp" else "(*ellora_x)[i]"  # Kokkos: through a pointer
    assert f"{element} = ({element} < 0) ? (0) : ({element});" in plan.source
    assert f"{element} = ({element} % 2 == 0) ? ({element} / (2)) : (-{element});" in plan.source
    (tmp_path / "serial").mkdir()
    serial = build_and_run(tmp_path / "serial", IF_STORES, 1)
    source = plan.source
    if target == "kokkos":
        assert "Kokkos::ScopeGuard" in source  # main initializes Kokkos
        assert _numbers(build_and_run_kokkos(tmp_path, source, 2)) == serial
    else:
        for threads in (1, 2, 3):
            assert build_and_run(tmp_path, source, threads) == serial


def test_a_store_that_other_iterations_read_is_not_if_converted():
    """x[i + 1] is read by the next iteration: the loop is refused, nothing is converted."""
    from ellora.tools.loops.region import plan_region

    source = ("void f(int n, double* __restrict__ x) {\n  for (int i = 0; i + 1 < n; ++i) {\n"
              "    if (x[i + 1] < 0) x[i] = x[i + 1];\n  }\n}\n")
    plan = plan_region(source, 1, 6, "openmp", if_convert=True)
    assert plan.source is None and "loop-carried" in plan.first_refusal
