"""Iterator loops over random-access containers, from their semantics:
``for (auto it = v.begin(); it != v.end(); ++it)`` visits the elements of ``v`` in order, and
``*it`` and ``it->m`` are element ``v[k]`` of iteration k. Ported to OpenMP, Kokkos and MPI
and equal to the serial functions; an iterator used any other way, moved by the body, or
over a container without random access is refused with the reason."""

from __future__ import annotations

import pytest
from loop_support import (
    build,
    build_kokkos,
    build_mpi,
    check_program,
    region_source,
    run_on_ranks,
    run_on_threads,
    serial_twins,
    verdict_of,
)

ITERATORS = """\
#include <cstddef>
#include <iterator>
#include <vector>
struct Particle { double x, v; };
void advance(std::vector<Particle>& ps, double dt) {
  for (auto it = ps.begin(); it != ps.end(); ++it) {
    it->x += dt * it->v;
  }
}
double sumSquares(const std::vector<double>& v) {
  double s = 0;
  for (std::vector<double>::const_iterator it = v.begin(); it != v.end(); it++) s += *it * *it;
  return s;
}
void clip(std::vector<int>& v, int hi) {
  for (auto it = std::begin(v); it < std::end(v); ++it)
    if (*it > hi) *it = hi;
}
int countAbove(const std::vector<int>& v, int t) {
  int count = 0;
  for (auto it = v.cbegin(); it != v.cend(); ++it) {
    if (*it > t) ++count;
  }
  return count;
}
"""

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 2, 3, 7, 1000, 100003}) {
    std::vector<Particle> p(n), ps;
    std::vector<double> d(n);
    std::vector<int> v(n), vs;
    for (int i = 0; i < n; ++i) {
      p[i] = Particle{(double)(i % 17), (double)(i % 5) - 2};
      d[i] = (double)((i * 7919L) % 1009) - 500;
      v[i] = (int)((i * 31L) % 101);
    }
    ps = p;
    vs = v;
    advance(p, 0.5);
    serial_advance(ps, 0.5);
    for (int i = 0; i < n; ++i) same &= p[i].x == ps[i].x && p[i].v == ps[i].v;
    same &= sumSquares(d) == serial_sumSquares(d);
    same &= countAbove(v, 50) == serial_countAbove(v, 50);
    clip(v, 60);
    serial_clip(vs, 60);
    same &= v == vs;
  }
  REPORT
}
"""

NAMES = ("advance", "sumSquares", "clip", "countAbove")


def _serial() -> str:
    return serial_twins(ITERATORS, NAMES, "struct Particle { double x, v; };\n")


def test_an_iterator_loop_is_the_loop_over_the_containers_elements():
    expected = [("ps", "map"), ("v", "reduction"), ("v", "map"), ("v", "reduction")]
    for position, (container, _) in enumerate(expected):
        verdict, model = verdict_of(ITERATORS, position)
        assert verdict.parallel, (position, verdict.dependence)
        assert model.header.range_of == container and model.header.iterator == "it"
        assert all(a.base == container for a in model.accesses), position
    total, _ = verdict_of(ITERATORS, 1)
    assert [(r.name, r.operator) for r in total.reducers] == [("s", "+")]
    count, _ = verdict_of(ITERATORS, 3)
    assert [(r.name, r.operator) for r in count.reducers] == [("count", "+")]


def test_iterator_loops_equal_the_serial_code_on_threads(tmp_path):
    parallel = region_source(ITERATORS, 1, 40, "openmp")
    assert parallel.count("#pragma omp parallel for") == 4, parallel
    program = check_program(parallel, _serial(), CHECK, "openmp")
    binary = build(tmp_path, program)
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_iterator_loops_equal_the_serial_code_under_kokkos(tmp_path):
    parallel = region_source(ITERATORS, 1, 40, "kokkos")
    program = check_program(parallel, _serial(), CHECK, "kokkos")
    binary = build_kokkos(tmp_path, program)
    assert run_on_threads(binary, 2).split()[-1] == "1"


def test_iterator_loops_equal_the_serial_code_on_ranks(tmp_path):
    parallel = region_source(ITERATORS, 1, 40, "mpi")
    program = check_program(parallel, _serial(), CHECK, "mpi")
    binary = build_mpi(tmp_path, program)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"


@pytest.mark.parametrize("loop, reason", [
    ("for (auto it = v.begin(); it != v.end(); ++it) *it += *(it + 1);", "through"),
    ("for (auto it = v.begin() ; it != v.end(); ++it) it[1] = 0;", "cannot identify"),
    ("for (auto it = v.begin(); it != v.end(); ++it) { auto jt = it; *jt = 1; }",
     "uses the iterator it"),
    ("for (auto it = v.begin(); it != v.end(); ++it) { *it = 0; ++it; }", "moves the iterator"),
    ("for (auto it = v.begin(); it != v.end(); ++it) total += it - v.begin();",
     "uses the iterator it"),
    ("for (auto it = l.begin(); it != l.end(); ++it) *it = 0;", "random-access"),
    ("for (auto it = v.begin(); it != w.end(); ++it) *it = 0;", "run until"),
])
def test_iterators_used_otherwise_are_refused_with_the_reason(loop, reason):
    source = ("#include <list>\n#include <vector>\n"
              "void f(std::vector<int>& v, std::vector<int>& w, std::list<int>& l, long& total) {\n"
              "  " + loop + "\n}\n")
    from ellora.tools.loops.cpp.header import NotCounted

    try:
        verdict, _ = verdict_of(source, 0)
    except NotCounted as why:  # the header itself is not a loop over the elements
        assert reason in str(why), str(why)
        return
    assert not verdict.parallel
    assert reason in verdict.dependence.text, verdict.dependence.text
