"""Running maxima, minima and sums kept in an array (it reads its previous element) as
block scans: recognized only in their exact forms, and equal to the serial loop, NaNs and
ties included, at several thread counts (OpenMP) and rank counts (MPI)."""

from __future__ import annotations

import pytest
from loop_support import (
    build,
    build_mpi,
    refusal,
    region_source,
    run_on_ranks,
    run_on_threads,
    verdict_of,
)

RUNNING = """\
#include <algorithm>
#include <cstddef>
void runMax(std::size_t n, const double* x, double* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = (i == 0 || x[i] > out[i - 1]) ? x[i] : out[i - 1];
  }
}
void runMin(long n, const int* x, long long* out) {
  for (long i = 1; i < n; ++i) {
    out[i] = std::min(out[i - 1], (long long)x[i] * 3);
  }
}
void runSum(long n, const int* x, long long* out) {
  for (long i = 1; i < n; ++i) {
    out[i] = out[i - 1] + x[i];
  }
}
"""

CHECK = """
#include <cmath>
#include <cstdio>
#include <vector>
int main() {
  int same = 1;
  for (long n : {0L, 1L, 2L, 3L, 5L, 1000L, 100003L}) {
    std::vector<double> x(n), a(n), b(n);
    std::vector<int> y(n);
    std::vector<long long> c(n + 1, 7), d(n + 1, 7);
    for (long i = 0; i < n; ++i) {
      x[i] = (double)((i * 7919) % 1009) - (i % 3 == 0 ? 500.0 * (i % 5) : 0.0);
      if (i % 97 == 5) x[i] = NAN;  // NaNs never win a comparison
      y[i] = (int)((i * 31) % 201) - 100;
    }
    if (n > 2) x[0] = NAN;  // ... unless the first element is one: then it stays NaN
    serial_runMax(n, x.data(), a.data());
    runMax(n, x.data(), b.data());
    for (long i = 0; i < n; ++i) same &= (a[i] == b[i]) || (std::isnan(a[i]) && std::isnan(b[i]));
    serial_runMin(n, y.data(), c.data());
    runMin(n, y.data(), d.data());
    same &= c == d;
    serial_runSum(n, y.data(), c.data());
    runSum(n, y.data(), d.data());
    same &= c == d;
  }
  std::printf("%d\\n", same);
}
"""


FIRST = "out[i] = (i == 0 || x[i] > out[i - 1]) ? x[i] : out[i - 1];"


def test_running_values_are_recognized_in_their_exact_forms():
    maximum, _ = verdict_of(RUNNING, 0)
    assert maximum.pattern == "running max", maximum.dependence
    assert (maximum.recurrence.base, maximum.recurrence.operator) == ("out", "max")
    assert maximum.recurrence.first_rule and maximum.recurrence.compare == ">"
    minimum, _ = verdict_of(RUNNING, 1)
    assert (minimum.recurrence.operator, minimum.recurrence.first_rule) == ("min", False)
    total, _ = verdict_of(RUNNING, 2)  # a sum through memory: a prefix sum, reassociated
    assert total.pattern == "running +" and total.recurrence.operator == "+"


@pytest.mark.parametrize("body", [
    "out[i] = (x[i] > out[i - 1]) ? out[i - 1] : x[i];",  # keeps the smaller of the new
    "out[i] = (i == 1 || x[i] > out[i - 1]) ? x[i] : out[i - 1];",  # wrong first index
    "out[i] = (x[i] > out[i - 2]) ? x[i] : out[i - 1];",  # two elements back
    "out[i] = std::max(x[i], out[i - 1]);",  # NaN order differs: not taken
    "out[i] = out[i - 1] - x[i];",  # a difference: not associative
])
def test_near_misses_of_running_values_are_refused(body):
    verdict, _ = verdict_of(RUNNING.replace(FIRST, body), 0)
    assert verdict.recurrence is None
    assert refusal(verdict) == ("carried_array", "out")


def test_block_scans_of_running_values_equal_the_serial_loops(tmp_path):
    parallel = region_source(RUNNING, 1, 30, "openmp")
    assert parallel.count("#pragma omp barrier") == 3  # one per loop
    serial = RUNNING.replace("void run", "void serial_run").split("#include <cstddef>\n")[1]
    binary = build(tmp_path, parallel + serial + CHECK)
    for threads in (1, 2, 3, 7):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


MPI_CHECK = """
#include <cmath>
#include <cstdio>
#include <vector>
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int same = 1, rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (long n : {0L, 1L, 2L, 3L, 5L, 1000L, 100003L}) {
    std::vector<double> x(n), a(n), b(n);
    for (long i = 0; i < n; ++i) {
      x[i] = (double)((i * 7919) % 1009) - (i % 3 == 0 ? 500.0 * (i % 5) : 0.0);
      if (i % 97 == 5) x[i] = NAN;
    }
    if (n == 1000) x[0] = NAN;
    serial_runMax(n, x.data(), a.data());
    runMax(n, x.data(), b.data());
    for (long i = 0; i < n; ++i) same &= (a[i] == b[i]) || (std::isnan(a[i]) && std::isnan(b[i]));
  }
  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  if (rank == 0) std::printf("%d\\n", same);
  MPI_Finalize();
}
"""


def test_the_mpi_block_scan_of_a_running_max_equals_the_serial_loop(tmp_path):
    parallel = region_source(RUNNING, 1, 7, "mpi")
    assert "MPI_Allgather(&ellora_mine" in parallel and "MPI_Allgatherv" in parallel
    serial = RUNNING.split("void runMin")[0].replace("void runMax", "void serial_runMax")
    serial = serial.split("#include <cstddef>\n")[1]
    binary = build_mpi(tmp_path, parallel + serial + MPI_CHECK)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"


# A first element with its own value (an if/else or a select on the first iteration), and
# statements after the recurrence that read the element it just wrote.
GUARDED = """\
#include <vector>
long long totalOfRunning(std::vector<int> const& v, std::vector<long long>& run) {
  long long total = 5;
  for (size_t k = 0; k < v.size(); ++k) {
    if (k == 0) {
      run[k] = v[k];
    } else {
      run[k] = run[k - 1] + v[k];
    }
    total += run[k] * 3;
  }
  return total;
}
void seeded(int n, const int* v, long long* run, long long* twice) {
  for (int k = 0; k < n; k++) {
    if (k > 0) run[k] = run[k - 1] + v[k];
    else run[k] = 100 + v[k];
    twice[k] = 2 * run[k];
  }
}
void picked(int n, const int* v, long long* run) {
  for (int k = 0; k < n; k++) {
    run[k] = (k == 0) ? (long long)v[k] * 7 : std::max(run[k - 1], (long long)v[k]);
  }
}
long long localTotal(std::vector<int> const& v) {
  std::vector<long long> running(v.size());
  long long total = 0;
  for (size_t k = 0; k < v.size(); ++k) {
    running[k] = k == 0 ? v[k] : running[k - 1] + v[k];
    total += running[k];
  }
  return total;
}
long long scalarTotal(std::vector<int> const& v) {
  long long partial = 0, total = 0;
  for (size_t k = 0; k < v.size(); ++k) {
    partial += v[k];
    total += partial;
  }
  return total;
}
"""

GUARDED_CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  ELLORA_INIT
  int same = 1;
  for (int n : {0, 1, 2, 3, 5, 1000, 100003}) {
    std::vector<int> v(n);
    for (int i = 0; i < n; ++i) v[i] = (int)((i * 7919L) % 1009) - 504;
    std::vector<long long> a(n, -1), b(n, -1), c(n, -1), d(n, -1);
    same &= serial_totalOfRunning(v, a) == totalOfRunning(v, b) && a == b;
    std::fill(a.begin(), a.end(), -1); std::fill(b.begin(), b.end(), -1);
    serial_seeded(n, v.data(), a.data(), c.data());
    seeded(n, v.data(), b.data(), d.data());
    same &= a == b && c == d;
    serial_picked(n, v.data(), a.data());
    picked(n, v.data(), b.data());
    same &= a == b;
    same &= serial_scalarTotal(v) == scalarTotal(v);
    same &= serial_localTotal(v) == localTotal(v);
  }
  ELLORA_REPORT
}
"""


def _serial_copy(source: str) -> str:
    body = source.split("#include <vector>\n")[1]
    for name in ("totalOfRunning", "seeded", "picked", "localTotal", "scalarTotal"):
        body = body.replace(f" {name}(", f" serial_{name}(")
    return body


def test_a_first_iteration_rule_and_later_readers_keep_the_recurrence():
    total, _ = verdict_of(GUARDED, 0)
    assert total.pattern == "running +", total.dependence
    assert total.recurrence.first is not None and not total.recurrence.alone
    assert [r.name for r in total.reducers] == ["total"]
    seeded, _ = verdict_of(GUARDED, 1)  # k > 0 takes the fold: the else branch is the first
    assert seeded.recurrence.first.key == "100+v[k]" and seeded.recurrence.fold.key == \
        "run[k-1]+v[k]"
    picked, _ = verdict_of(GUARDED, 2)
    assert picked.pattern == "running max" and picked.recurrence.first.key == "(longlong)v[k]*7"
    local, model = verdict_of(GUARDED, 3)
    assert local.pattern == "running +" and model.confined == {"running"}
    scalar, _ = verdict_of(GUARDED, 4)
    assert scalar.pattern == "scan" and [r.name for r in scalar.reducers] == ["total"]


@pytest.mark.parametrize("old, new", [
    ("if (k == 0) {", "if (k == 1) {"),  # not the first iteration
    ("total += run[k] * 3;", "total += run[k - 1];"),  # reads the element before, later
    ("total += run[k] * 3;", "run[k] += 1;"),  # writes the element again
    ("run[k] = v[k];", "run[k] = v[k] + run[k + 1];"),  # the first value reads the array
    ("total += run[k] * 3;", "total = run[k];"),  # keeps the last element: not a reduction
])
def test_near_misses_of_guarded_recurrences_are_refused(old, new):
    assert old in GUARDED
    verdict, _ = verdict_of(GUARDED.replace(old, new), 0)
    assert not verdict.parallel or verdict.pattern != "running +", verdict.facts


def test_guarded_recurrences_with_readers_equal_the_serial_loops(tmp_path):
    parallel = region_source(GUARDED, 1, 40, "openmp")
    assert parallel.count("#pragma omp barrier") == 5
    assert "#pragma omp parallel reduction(+:total)" in parallel
    program = (parallel + _serial_copy(GUARDED) + GUARDED_CHECK).replace(
        "ELLORA_INIT", "").replace("ELLORA_REPORT", 'std::printf("%d\\n", same);')
    binary = build(tmp_path, "#include <algorithm>\n" + program)
    for threads in (1, 2, 3, 7):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_guarded_recurrences_with_readers_equal_the_serial_loops_over_mpi(tmp_path):
    parallel = region_source(GUARDED, 1, 40, "mpi")
    assert parallel.count("MPI_Allgather(&ellora_mine") == 5
    assert parallel.count("MPI_Allreduce(MPI_IN_PLACE, &ellora_value") == 3  # the totals
    # run, run and twice, run; the local running[] is read by nothing after its loop
    assert parallel.count("MPI_Allgatherv(") == 4
    program = (parallel + _serial_copy(GUARDED) + GUARDED_CHECK).replace(
        "ELLORA_INIT", "MPI_Init(&argc, &argv); int rank = 0; "
                       "MPI_Comm_rank(MPI_COMM_WORLD, &rank);").replace(
        "ELLORA_REPORT", "MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_LAND, "
                         'MPI_COMM_WORLD);\n  if (rank == 0) std::printf("%d\\n", same);\n'
                         "  MPI_Finalize();")
    binary = build_mpi(tmp_path, "#include <algorithm>\n" + program)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"


def test_kokkos_names_why_a_running_value_with_a_reduction_is_not_split():
    from ellora.tools.loops.emit import NotEmittable, emit

    verdict, _ = verdict_of(GUARDED, 0)
    with pytest.raises(NotEmittable, match="reductions and private scalars"):
        emit(verdict, "kokkos")


@pytest.mark.parametrize("use, confined", [
    ("", True),
    ("  return keep[0];\n", False),  # read after the loop
    ("  double* alias = keep.data(); alias[0] = 0;\n", False),  # named after it
])
def test_a_local_array_is_confined_when_nothing_outside_the_loop_names_it(use, confined):
    source = ("#include <vector>\ndouble f(const std::vector<double>& x) {\n"
              "  std::vector<double> keep(x.size());\n  double s = 0;\n"
              "  for (size_t i = 0; i < x.size(); ++i) { keep[i] = 2 * x[i]; s += keep[i]; }\n"
              + use + "  return s;\n}\n")
    _, model = verdict_of(source, 0)
    assert (model.confined == {"keep"}) is confined


@pytest.mark.parametrize("source", [
    # inside another loop: the next outer iteration may read what other ranks wrote
    "void f(int n, double* y) { std::vector<double> keep(n);\n"
    "  for (int r = 0; r < 3; ++r) { for (int i = 0; i < n; ++i) keep[i] = i * r; } }",
    # static: it outlives the call
    "void f(int n) { static std::vector<double> keep(100);\n"
    "  for (int i = 0; i < n; ++i) keep[i] = i; }",
    # a reference to someone else's storage
    "void f(std::vector<double>& out, int n) { std::vector<double>& keep = out;\n"
    "  for (int i = 0; i < n; ++i) keep[i] = i; }",
])
def test_arrays_that_outlive_the_loop_are_not_confined(source):
    from loop_support import loop_over

    from ellora.tools.loops.cpp import CppSource

    parsed = CppSource("#include <vector>\n" + source)
    assert parsed.loop_model(loop_over(parsed, "i")).confined == set()
