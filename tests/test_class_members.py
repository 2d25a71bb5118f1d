"""Loops in member functions over the class's own containers (``u[i]``, ``this->u[i]``),
defined in the class or out of it (``void Field::smooth()``): the members are typed from
the class, so every target, MPI's gathers too, knows they are vectors. Compared with the
same class left serial, under OpenMP and MPI."""

from __future__ import annotations

import pytest
from loop_support import (
    build,
    build_mpi,
    check_program,
    region_source,
    run_on_ranks,
    run_on_threads,
)

FIELD = """\
#include <cmath>
#include <cstddef>
#include <vector>
class Field {
 public:
  std::vector<double> u, f;
  double h = 0.5;
  void scale(double s) {
    for (std::size_t i = 0; i < u.size(); ++i) this->u[i] *= s;
  }
  double norm() const;
  void smooth();
};
double Field::norm() const {
  double s = 0;
  for (std::size_t i = 0; i < u.size(); ++i) s += u[i] * u[i];
  return std::sqrt(s);
}
void Field::smooth() {
  for (std::size_t i = 1; i + 1 < u.size(); ++i) f[i] = 0.25 * (u[i - 1] + 2 * u[i] + u[i + 1]) * h;
}
"""

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 3, 1000, 40001}) {
    Field a; SerialField b;
    a.u.resize(n); a.f.assign(n, -1.0);
    for (int i = 0; i < n; ++i) a.u[i] = (i * 37) % 101 * 0.01;
    b.u = a.u; b.f = a.f;
    a.scale(1.5); b.scale(1.5);
    const double na = a.norm(), nb = b.norm();
    a.smooth(); b.smooth();
    same &= a.u == b.u && a.f == b.f && std::fabs(na - nb) <= 1e-9 * (1 + nb);
  }
  REPORT
}
"""


def _program(parallel: str, target: str) -> str:
    serial = FIELD.split("#include <vector>\n")[1].replace("Field", "SerialField")
    return check_program(parallel, serial, CHECK, target)


def test_members_are_typed_from_their_class():
    from ellora.tools.loops.region import plan_region

    plan = plan_region(FIELD, 1, 40, "mpi")
    assert len(plan.transformed) == 3, plan.left_serial()


@pytest.mark.parametrize("target", ["openmp", "mpi"])
def test_member_loops_equal_the_serial_class(tmp_path, target):
    parallel = region_source(FIELD, 1, 40, target)
    if target == "openmp":
        binary = build(tmp_path, _program(parallel, target))
        for threads in (1, 3):
            assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"
        return
    binary = build_mpi(tmp_path, _program(parallel, target))
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"
