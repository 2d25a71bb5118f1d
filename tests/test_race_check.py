"""The static OpenMP race check: clauses must cover every shared write the analysis finds."""

import pytest
from ellora.tools.race_check import openmp_race_findings

DOT = """double dot(int n, const double* x, const double* y) {
  double sum = 0;
  #pragma omp parallel for CLAUSES
  for (int i = 0; i < n; ++i) { sum += x[i] * y[i]; }
  return sum;
}"""
HIST = """void hist(int n, const double* x, int* bins) {
  #pragma omp parallel for
  for (int i = 0; i < n; ++i) { int k = (int)x[i]; UPDATE }
}"""
TEMP = """void f(int n, const double* x, double* y) {
  double t;
  #pragma omp parallel for CLAUSES
  for (int i = 0; i < n; ++i) { t = 2 * x[i]; y[i] = t; }
}"""
SCAN = """void scan(int n, double* a) {
  #pragma omp parallel for
  for (int i = 1; i < n; ++i) { a[i] += a[i - 1]; }
}"""


@pytest.mark.parametrize(
    "source, kinds",
    [
        (DOT.replace("CLAUSES", ""), ["race"]),
        (DOT.replace("CLAUSES", "reduction(+:sum)"), []),
        (HIST.replace("UPDATE", "bins[k] += 1;"), ["race"]),
        (HIST.replace("UPDATE", "\n#pragma omp atomic\n bins[k] += 1;"), []),
        (TEMP.replace("CLAUSES", ""), ["race"]),
        (TEMP.replace("CLAUSES", "private(t)"), []),
        (SCAN, ["unproven"]),
    ],
)
def test_findings(source, kinds):
    assert [kind for kind, _ in openmp_race_findings(source)] == kinds


COUNT = """#include <vector>
int countEven(const std::vector<int>& x) {
  int count = 0;
  #pragma omp parallel for CLAUSES
  for (int i = 0; i < (int)x.size(); ++i) { if (x[i] % 2 == 0) ++count; }
  return count;
}"""
LAST_VALUE = """double f(int n, const double* x, double* __restrict__ y) {
  double t = 0;
  #pragma omp parallel for CLAUSES
  for (int i = 0; i < n; ++i) { t = x[i] * 2; y[i] = t; }
  return t;
}"""
SHARED_MAP = """#include <map>
#include <vector>
void f(const std::vector<int>& x, std::map<int, int>& m) {
  #pragma omp parallel for
  for (int i = 0; i < (int)x.size(); ++i) m[x[i]] += 1;
}"""
RANGE_FOR = """#include <vector>
void f(std::vector<double>& x) {
  #pragma omp parallel for
  for (auto& v : x) v = v * 2;
}"""


@pytest.mark.parametrize(
    "source, kinds",
    [
        (COUNT.replace("CLAUSES", ""), ["race"]),  # ++count under an if
        (COUNT.replace("CLAUSES", "reduction(+:count)"), []),
        (LAST_VALUE.replace("CLAUSES", ""), ["race"]),
        (LAST_VALUE.replace("CLAUSES", "lastprivate(t)"), []),
        (SHARED_MAP, ["unproven"]),  # operator[] inserts into the shared map
        (RANGE_FOR, []),
    ],
)
def test_findings_on_ordinary_cpp(source, kinds):
    assert [kind for kind, _ in openmp_race_findings(source)] == kinds


def test_the_shared_map_is_named():
    [(_, message)] = openmp_race_findings(SHARED_MAP)
    assert "m.operator[]()" in message


ARGMIN = """int f(int n, const double* x) {
  int best = 0;
  #pragma omp parallel for
  for (int i = 0; i < n; ++i) { if (x[i] < x[best]) best = i; }
  return best;
}"""
LAST_MATCH = """int f(int n, const int* x) {
  int last = -1;
  #pragma omp parallel for CLAUSES
  for (int i = 0; i < n; ++i) { if (x[i] == 3) last = i; }
  return last;
}"""
RUNNING_SUM = """void f(int n, const double* __restrict__ x, double* __restrict__ out) {
  double s = 0;
  #pragma omp parallel for CLAUSES
  for (int i = 0; i < n; ++i) { s += x[i]; out[i] = s; }
}"""
RECURRENCE = """void f(int n, const double* __restrict__ x, double* __restrict__ out) {
  #pragma omp parallel for
  for (int i = 1; i < n; ++i) { out[i] = out[i - 1] + x[i]; }
}"""


@pytest.mark.parametrize(
    "source, named",
    [
        (ARGMIN, "best"),  # every thread writes best, and the key reads x[best]
        (LAST_MATCH.replace("CLAUSES", ""), "last"),
        (LAST_MATCH.replace("CLAUSES", "lastprivate(last)"), "last"),  # the last thread's
        (RUNNING_SUM.replace("CLAUSES", ""), "s"),
        (RUNNING_SUM.replace("CLAUSES", "reduction(+:s)"), "s"),  # out[i] needs the prefix
        (RECURRENCE, "out"),  # out[i - 1] is another thread's element
        (LAST_VALUE.replace("CLAUSES", "private(t)"), "t"),  # t is read after the loop
    ],
)
def test_loops_that_need_their_own_parallel_form_are_reported(source, named):
    findings = openmp_race_findings(source)
    assert findings and any(named in message for _, message in findings), findings


def test_an_array_section_reduction_covers_its_scatter():
    covered = ("void f(int n, const int* k, long* h) {\n"
               "#pragma omp parallel for reduction(+:h[:64])\n"
               "  for (int i = 0; i < n; ++i) h[k[i]]++;\n}\n")
    assert [kind for kind, _ in openmp_race_findings(covered)] in ([], ["unproven"])
    assert not any(kind == "race" for kind, _ in openmp_race_findings(covered))
    bare = covered.replace(" reduction(+:h[:64])", "")
    assert any(kind == "race" for kind, _ in openmp_race_findings(bare))


BIT_MASK = """#include <vector>
bool isPowerOfTwo(int x) { return (x > 0) && !(x & (x - 1)); }
void mapPowersOfTwo(std::vector<int> const& x, std::vector<bool>& mask, std::vector<int>& y) {
  #pragma omp parallel for SCHEDULE
  for (int i = 0; i < x.size(); i++) { mask[i] = isPowerOfTwo(x[i]); y[i] = x[i]; }
}"""


@pytest.mark.parametrize(
    "schedule, kinds",
    [
        ("", ["race"]),  # the runtime's default schedule splits anywhere
        ("schedule(static)", ["race"]),  # equal shares end inside a word
        ("schedule(static, 100)", ["race"]),
        ("schedule(guided, 64)", ["race"]),  # guided chunks are not multiples of 64
        ("schedule(static, 4096)", []),
        ("schedule(dynamic,64)", []),
    ],
)
def test_threads_writing_a_vector_of_bool_must_own_whole_words(schedule, kinds):
    findings = openmp_race_findings(BIT_MASK.replace("SCHEDULE", schedule))
    assert [kind for kind, _ in findings] == kinds
    if findings:  # the message names the packed vector, not the plain one beside it
        assert "mask is a std::vector<bool>" in findings[0][1] and " y" not in findings[0][1]


def test_reading_a_vector_of_bool_in_parallel_is_no_race():
    source = """#include <vector>
bool reduceLogicalXOR(std::vector<bool> const& x) {
  bool result = false;
  #pragma omp parallel for schedule(static) reduction(^:result)
  for (auto const& b : x) { result ^= b; }
  return result;
}"""
    assert openmp_race_findings(source) == []
