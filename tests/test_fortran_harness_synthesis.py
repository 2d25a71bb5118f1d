"""Harnesses synthesized for Fortran from the procedure's declarations: extents from the
integer arguments that size the arrays, real arrays and scalars as inputs, what the procedure
may write as outputs; an argument with no inferable domain leaves the change unverified with
a reason naming it. Run through the CLI with the real gfortran."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ellora.tools.synthesis import CannotSynthesize
from ellora.tools.synthesis.fortran import synthesize_fortran_harness

AGENT = [sys.executable, "-m", "ellora.agents.cli.agent_command"]
FAST = ["--set", "agent.timing_size=200000", "--set", "agent.min_timing_s=0",
        "--set", "agent.timing_repeats=2", "--set", "agent.test_sizes=[0,1,7,1001]",
        "--set", "agent.min_speedup=0", "--set", "agent.max_fix_attempts=0"]

EXTERNAL = """\
subroutine scaled_sum(n, a, x, y, total)
  implicit none
  integer, intent(in) :: n
  double precision, intent(in) :: a, x(n)
  double precision, intent(inout) :: y(n)
  double precision, intent(out) :: total
  integer :: i
  total = 0.0d0
  do i = 1, n
    y(i) = a * x(i) + y(i)
    total = total + y(i)
  end do
end subroutine scaled_sum
"""

MODULE_FUNCTION = """\
module norms
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function sum_of_squares(v) result(s)
    real(dp), intent(in) :: v(:)
    real(dp) :: s
    integer :: i
    s = 0.0_dp
    do i = 1, size(v)
      s = s + v(i) * v(i)
    end do
  end function sum_of_squares
end module norms
"""

TWO_D = """\
subroutine gradient(nx, ny, h, u, gx, gy)
  implicit none
  integer, intent(in) :: nx, ny
  real(8), intent(in) :: h, u(nx, ny)
  real(8), intent(out) :: gx(nx, ny), gy(nx, ny)
  integer :: i, j
  gx = 0.0d0
  gy = 0.0d0
  do j = 2, ny - 1
    do i = 2, nx - 1
      gx(i, j) = (u(i + 1, j) - u(i - 1, j)) * h
      gy(i, j) = (u(i, j + 1) - u(i, j - 1)) * h
    end do
  end do
end subroutine gradient
"""

OFFSET = """\
subroutine shift_add(n, k, x, y)
  implicit none
  integer, intent(in) :: n, k
  real(8), intent(in) :: x(n)
  real(8), intent(inout) :: y(n)
  integer :: i
  do i = 1, n - k
    y(i) = y(i) + x(i + k)
  end do
end subroutine shift_add
"""


def _agent(path: Path) -> dict:
    result = subprocess.run([*AGENT, "parallelize this loop with OpenMP", "--file", str(path),
                             "--json", "--quiet", *FAST],
                            check=False, capture_output=True, text=True, timeout=300)
    return json.loads(result.stdout)


@pytest.mark.parametrize("name, source, calls", [
    ("scaled.f90", EXTERNAL, "call scaled_sum(n, a, x, y, total)"),
    ("norms.f90", MODULE_FUNCTION, "result = sum_of_squares(v)"),
    ("gradient.f90", TWO_D, "call gradient(nx, ny, h, u, gx, gy)"),
])
def test_a_synthesized_fortran_harness_verifies_the_port(tmp_path, name, source, calls):
    path = tmp_path / name
    path.write_text(source)
    report = _agent(path)
    assert report["status"] == "verified", report.get("status_reason")
    assert report["test"]["status"] == "passed"
    harness = next(s["summary"] for s in report["steps"] if "synthesized a harness" in
                   s["summary"]).split(": ")[-1]
    assert harness.endswith(".harness.f90") and calls in Path(harness).read_text()
    assert path.read_text() == source


def test_outputs_and_extents_come_from_the_declarations():
    made = synthesize_fortran_harness(TWO_D, 9, 14, "gradient.f90")
    assert made.function == "gradient" and made.outputs == ["gx", "gy"] and made.degree == 2
    assert "allocate(u(nx, ny))" in made.text and "ny = ellora_root + 3" in made.text
    module = synthesize_fortran_harness(MODULE_FUNCTION, 9, 11, "norms.f90")
    assert "use norms, only: sum_of_squares" in module.text and module.outputs == ["result"]


def test_an_integer_that_is_no_extent_is_named_and_the_change_stays_unverified(tmp_path):
    with pytest.raises(CannotSynthesize, match="integer argument k is not an array extent"):
        synthesize_fortran_harness(OFFSET, 7, 9, "shift.f90")
    path = tmp_path / "shift.f90"
    path.write_text(OFFSET)
    report = _agent(path)
    assert report["status"] == "unverified"
    assert "integer argument k is not an array extent" in report["test"]["message"]
    assert report["test"]["message"].endswith("(add shift.harness.f90)")
