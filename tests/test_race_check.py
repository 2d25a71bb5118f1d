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
