"""Pointers and references a loop body declares, from their semantics: ``double* row =
&A[i * m]`` points into A, so ``row[j]`` is ``A[i * m + j]`` (``x + i``, ``v.data() + k`` and
``*(p + k)`` too); a reference or pointer to storage the model cannot name (``double& r =
total``, ``auto& out = result``, a pointer assigned later in the body) makes every write
through it a reason to refuse, never storage of the iteration's own. Ported to OpenMP and MPI
and equal to the serial functions (MPI gathers what the pointers wrote)."""

from __future__ import annotations

import pytest
from loop_support import (
    build,
    build_mpi,
    check_program,
    region_source,
    run_on_ranks,
    run_on_threads,
    serial_twins,
    verdict_of,
)

POINTERS = """\
#include <cstddef>
#include <vector>
void scaleRowsFlat(std::vector<double>& A, int n, int m) {
  for (int i = 0; i < n; ++i) {
    double* row = &A[(std::size_t)i * m];
    for (int j = 0; j < m; ++j) row[j] = 2 * row[j] + j;
  }
}
void axpyPtr(int n, double a, const double* x, double* y) {
  for (int i = 0; i < n; ++i) {
    const double* xi = x + i;
    double* yi = y + i;
    *yi += a * *xi;
  }
}
void reverseRows(const std::vector<double>& src, std::vector<double>& dst, int n, int m) {
  for (int i = 0; i < n; ++i) {
    const double* s = src.data() + (std::size_t)i * m;
    double* d = dst.data() + (std::size_t)i * m;
    for (int j = 0; j < m; ++j) *(d + j) = s[m - 1 - j];
  }
}
"""

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 2, 7, 300, 2001}) {
    int m = n % 13 + 1;
    std::vector<double> A((std::size_t)n * m), As, x(n), y(n), ys, dst((std::size_t)n * m, -1), dsts;
    for (std::size_t k = 0; k < A.size(); ++k) A[k] = (double)(k % 17);
    for (int i = 0; i < n; ++i) { x[i] = i % 7; y[i] = i % 5; }
    As = A; ys = y; dsts = dst;
    scaleRowsFlat(A, n, m); serial_scaleRowsFlat(As, n, m);
    axpyPtr(n, 0.5, x.data(), y.data()); serial_axpyPtr(n, 0.5, x.data(), ys.data());
    reverseRows(A, dst, n, m); serial_reverseRows(As, dsts, n, m);
    same &= A == As && y == ys && dst == dsts;
  }
  REPORT
}
"""

NAMES = ("scaleRowsFlat", "axpyPtr", "reverseRows")


def _serial() -> str:
    return serial_twins(POINTERS, NAMES, "#include <vector>\n")


def test_a_pointer_into_an_array_names_the_arrays_elements():
    for position, bases in enumerate([{"A"}, {"x", "y"}, {"src", "dst"}]):
        verdict, model = verdict_of(POINTERS, position)
        assert verdict.parallel, (position, verdict.dependence)
        assert {a.base for a in model.accesses} == bases, position
        assert not any(a.whole for a in model.accesses if a.writes), position


def test_pointer_loops_equal_the_serial_code_on_threads(tmp_path):
    parallel = region_source(POINTERS, 1, 30, "openmp")
    program = check_program(parallel, _serial(), CHECK, "openmp")
    binary = build(tmp_path, program)
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_pointer_loops_equal_the_serial_code_on_ranks(tmp_path):
    parallel = region_source(POINTERS, 1, 30, "mpi")
    program = check_program(parallel, _serial(), CHECK, "mpi")
    binary = build_mpi(tmp_path, program)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"


@pytest.mark.parametrize("body", [
    "double& r = total; r += x[i];",  # every iteration adds to the same scalar
    "auto& out = result; out.push_back(x[i]);",  # grows one shared vector
    "double* p; p = &result[0]; *p += x[i];",  # a pointer set later in the body
    "auto& row = result; row[0] = x[i];",  # the same element in every iteration
    "const double* q = &x[0]; q = q + 1; result[i] = *q;",  # the pointer moves
])
def test_writes_through_references_the_model_cannot_name_are_refused(body):
    source = ("#include <vector>\n"
              "void f(const std::vector<double>& x, std::vector<double>& result, double& total) {\n"
              "  for (std::size_t i = 0; i < x.size(); ++i) {\n    " + body + "\n  }\n}\n")
    verdict, _ = verdict_of(source, 0)
    assert not verdict.parallel, body


def test_a_local_buffer_stays_the_iterations_own():
    source = ("#include <vector>\nvoid f(const std::vector<double>& x, std::vector<double>& y) {\n"
              "  for (std::size_t i = 0; i < x.size(); ++i) {\n"
              "    double buf[4];\n    double* p = buf;\n"
              "    for (int k = 0; k < 4; ++k) p[k] = x[i] * k;\n"
              "    y[i] = buf[0] + buf[3];\n  }\n}\n")
    verdict, _ = verdict_of(source, 0)
    assert verdict.parallel, verdict.dependence


def test_a_reference_into_a_row_reference_is_an_element_of_the_nested_container():
    source = ("#include <vector>\nvoid f(std::vector<std::vector<double>>& m) {\n"
              "  for (std::size_t i = 0; i < m.size(); ++i) {\n"
              "    auto& row = m[ROW];\n    auto& e = row[i % 3];\n    e = (double)i;\n  }\n}\n")
    shared, _ = verdict_of(source.replace("ROW", "0"), 0)  # m[0][i % 3]: written by many
    assert not shared.parallel
    own, model = verdict_of(source.replace("ROW", "i"), 0)  # m[i][i % 3]: row i's own
    assert own.parallel, own.dependence
    assert [a.base for a in model.accesses if a.writes] == ["m"]


@pytest.mark.parametrize("body", [
    "auto it = result.begin() + 1; *it = x[i];",  # an iterator made in the body
    "for (auto it = result.begin() + 1; it != result.end(); ++it) *it += x[i];",
    "auto p = result.data(); p[0] = x[i];",
])
def test_writes_through_iterators_made_in_the_body_are_refused(body):
    source = ("#include <vector>\n"
              "void f(const std::vector<double>& x, std::vector<double>& result) {\n"
              "  for (std::size_t i = 0; i < x.size(); ++i) {\n    " + body + "\n  }\n}\n")
    verdict, _ = verdict_of(source, 0)
    assert not verdict.parallel, body


def test_copies_made_with_auto_stay_the_iterations_own():
    source = ("#include <vector>\n"
              "void f(const std::vector<double>& x, std::vector<double>& y) {\n"
              "  for (std::size_t i = 0; i < x.size(); ++i) {\n"
              "    auto t = x[i];\n    t *= 2;\n    y[i] = t;\n  }\n}\n")
    verdict, _ = verdict_of(source, 0)
    assert verdict.parallel, verdict.dependence


def test_reads_through_an_iterator_made_in_the_body_read_its_whole_container():
    source = ("#include <vector>\nvoid f(std::vector<double>& v, std::vector<double>& out) {\n"
              "  for (std::size_t i = 0; i + 1 < v.size(); ++i) {\n"
              "    auto it = v.begin() + (i + 1);\n    WRITE = *it * 2;\n  }\n}\n")
    shifted, _ = verdict_of(source.replace("WRITE", "v[i]"), 0)  # v[i] = v[i + 1] * 2
    assert not shifted.parallel
    elsewhere, model = verdict_of(source.replace("WRITE", "out[i]"), 0)
    assert elsewhere.parallel, elsewhere.dependence
    assert any(a.base == "v" and a.whole and not a.writes for a in model.accesses)
