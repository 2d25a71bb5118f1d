"""The refusal table for Fortran: loops that are not parallel (or that a target cannot
express) are never rewritten, and the reason names the dependence."""

import pytest
from ellora.tools.loops.region import plan_region

HEAD = """module m
  implicit none
contains
  subroutine s(n, x, y, idx, total)
    integer, intent(in) :: n, idx(n)
    real(8), intent(inout) :: x(0:n), y(n)
    real(8), intent(inout) :: total
    real(8) :: t
    integer :: i, k
"""
TAIL = """  end subroutine s
end module m
"""

REFUSED = [
    # (name, loop, kind of dependence, words the reason names)
    ("recurrence", "do i = 1, n\n  x(i) = x(i - 1) * 0.5d0 + y(i)\nend do",
     ["loop-carried dependence on x", "x(i)", "x(i - 1)"]),
    ("indirect write", "do i = 1, n\n  y(idx(i)) = x(i)\nend do",
     ["indirect or non-injective write y(idx(i))", "race"]),
    ("impure call", "do i = 1, n\n  call random_number(t)\n  y(i) = t\nend do",
     ["random_number", "side effects are unknown"]),
    ("exit with side effects", "do i = 1, n\n  y(i) = 2 * y(i)\n  if (y(i) > 1) exit\nend do",
     ["leaves the loop (exit)"]),
    ("carried scalar", "do i = 1, n\n  total = total * 0.5d0 + y(i)\nend do",
     ["scalar total carries a value"]),
    ("return", "do i = 1, n\n  if (y(i) < 0) return\n  y(i) = sqrt(y(i))\nend do",
     ["leaves the loop (return)"]),
    ("stop", "do i = 1, n\n  if (y(i) < 0) stop 1\n  y(i) = sqrt(y(i))\nend do",
     ["leaves the loop (stop)"]),
    ("output in the loop", "do i = 1, n\n  print *, y(i)\nend do",
     ["print (input/output)", "side effects are unknown"]),
    ("every iteration writes one element", "do i = 1, n\n  y(1) = x(i)\nend do",
     ["every iteration of i writes y(1)"]),
    ("inner loop variable read after",
     "do i = 1, n\n  do k = 1, idx(i)\n    y(i) = y(i) + 1\n  end do\nend do\ntotal = k",
     ["k, the variable of an inner loop, is read after the loop"]),
    ("conditional temporary read after",
     "do i = 1, n\n  if (y(i) > 0) t = y(i)\n  y(i) = 0\nend do\ntotal = t",
     ["scalar t carries a value"]),
]


@pytest.mark.parametrize("target", ["openmp", "mpi"])
@pytest.mark.parametrize("name, loop, words", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_the_dependence_named(name, loop, words, target):
    body = "\n".join("    " + line for line in loop.split("\n")) + "\n"
    source = HEAD + body + TAIL
    first = HEAD.count("\n") + 1
    plan = plan_region(source, first, first + loop.count("\n"), target, language="fortran")
    assert plan.source is None, f"{name}: rewritten although refused"
    why = plan.first_refusal
    for word in words:
        assert word in why, (name, why)


def test_target_arrays_may_alias_and_are_refused():
    source = """module m
contains
  subroutine s(n, x, y)
    integer, intent(in) :: n
    real(8), intent(in), target :: x(n)
    real(8), intent(inout), target :: y(n)
    integer :: i
    do i = 2, n
      y(i) = x(i - 1) + y(i)
    end do
  end subroutine s
end module m
"""
    for target in ("openmp", "mpi"):
        plan = plan_region(source, 8, 10, target, language="fortran")
        assert plan.source is None
        why = plan.first_refusal
        assert "may share storage" in why and "declared target" in why
        assert "aliasing dependence" in why


def test_a_pointer_and_a_target_may_alias():
    source = """subroutine s(n, x, p)
  implicit none
  integer, intent(in) :: n
  real(8), intent(inout), target :: x(n)
  real(8), pointer, intent(in) :: p(:)
  integer :: i
  do i = 1, n
    x(i) = p(i) * 2
  end do
end subroutine s
"""
    plan = plan_region(source, 7, 9, "openmp", language="fortran")
    assert plan.source is None and "a pointer" in plan.first_refusal


def test_an_existing_directive_is_not_doubled():
    source = """subroutine s(n, y)
  integer, intent(in) :: n
  real(8), intent(inout) :: y(n)
  integer :: i
  !$omp parallel do
  do i = 1, n
    y(i) = 2 * y(i)
  end do
end subroutine s
"""
    plan = plan_region(source, 6, 8, "openmp", language="fortran")
    assert plan.source is None and "already parallelized with OpenMP (line 5)" in \
        plan.first_refusal


def test_mpi_gathers_only_slabs_of_the_last_dimension():
    source = """subroutine s(n, a)
  integer, intent(in) :: n
  real(8), intent(inout) :: a(n, n)
  integer :: i, j
  do i = 1, n
    do j = 1, n
      a(i, j) = a(i, j) * 2
    end do
  end do
end subroutine s
"""
    plan = plan_region(source, 5, 9, "mpi", language="fortran")
    assert plan.source is None or all(d.line != 5 for d in plan.transformed)
    assert any("only slabs of the last dimension are contiguous" in d.why
               for d in plan.serial if d.line == 5)
    omp = plan_region(source, 5, 9, "openmp", language="fortran")
    assert omp.source is not None and [d.line for d in omp.transformed] == [5]


def test_kokkos_has_no_fortran_transformation():
    source = """subroutine s(n, y)
  integer, intent(in) :: n
  real(8), intent(inout) :: y(n)
  integer :: i
  do i = 1, n
    y(i) = 2 * y(i)
  end do
end subroutine s
"""
    plan = plan_region(source, 5, 7, "kokkos", language="fortran")
    assert plan.source is None and "OpenMP or MPI" in plan.first_refusal


def test_a_whole_program_is_not_ported_to_mpi():
    source = """program p
  implicit none
  integer :: i
  real(8) :: y(100)
  do i = 1, 100
    y(i) = i
  end do
  print *, sum(y)
end program p
"""
    plan = plan_region(source, 5, 7, "mpi", language="fortran")
    assert plan.source is None and "main program" in plan.first_refusal
