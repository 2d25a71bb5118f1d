"""Fortran running values with a first element of their own (``if (k == 1) then ... else``)
and statements after them that read the element just written (``total = total + run(k)``),
scalar scans beside a reduction, and first-match searches (``if (c) then; at = k; exit``):
ported to OpenMP and MPI and equal to the serial procedures at several thread and rank
counts."""

from __future__ import annotations

from loop_support import _run, run_on_ranks, run_on_threads

GUARDED = """module guarded
  implicit none
contains
  function total_of_running(n, v, run) result(total)
    integer, intent(in) :: n
    integer, intent(in) :: v(n)
    integer(8), intent(inout) :: run(n)
    integer(8) :: total
    integer :: k
    total = 5
    do k = 1, n
      if (k == 1) then
        run(k) = v(k)
      else
        run(k) = run(k - 1) + v(k)
      end if
      total = total + run(k) * 3
    end do
  end function total_of_running
  subroutine seeded(n, v, run)
    integer, intent(in) :: n
    integer, intent(in) :: v(n)
    integer(8), intent(inout) :: run(n)
    integer :: k
    do k = 1, n
      if (k > 1) then
        run(k) = max(run(k - 1), int(v(k), 8))
      else
        run(k) = 100 + v(k)
      end if
    end do
  end subroutine seeded
  function local_total(n, v) result(total)
    integer, intent(in) :: n
    integer, intent(in) :: v(n)
    integer(8) :: total
    integer(8), allocatable :: running(:)
    integer :: k
    allocate(running(n))
    total = 0
    do k = 1, n
      if (k == 1) then
        running(k) = v(k)
      else
        running(k) = running(k - 1) + v(k)
      end if
      total = total + running(k)
    end do
    deallocate(running)
  end function local_total
  function first_above(n, v, key) result(at)
    integer, intent(in) :: n, key
    integer, intent(in) :: v(n)
    integer :: at, k
    at = -1
    do k = 1, n
      if (v(k) > key) then
        at = 2 * k
        exit
      end if
    end do
  end function first_above
  function scalar_total(n, v) result(total)
    integer, intent(in) :: n
    integer, intent(in) :: v(n)
    integer(8) :: total, partial
    integer :: k
    total = 0
    partial = 0
    do k = 1, n
      partial = partial + v(k)
      total = total + partial
    end do
  end function scalar_total
end module guarded
"""

CHECK = """program check
  use guarded, only: total_of_running, seeded, scalar_total, local_total, first_above
  use serial, only: s_total => total_of_running, s_seeded => seeded, s_scalar => scalar_total, &
    s_local => local_total, s_first => first_above
  INIT
  implicit none
  integer :: sizes(7) = [0, 1, 2, 3, 5, 1000, 100003], t, i, n, same
  integer, allocatable :: v(:)
  integer(8), allocatable :: a(:), b(:)
  INTRO
  same = 1
  do t = 1, size(sizes)
    n = sizes(t)
    allocate(v(n), a(n), b(n))
    do i = 1, n
      v(i) = int(mod(int(i, 8) * 7919_8, 1009_8)) - 504
    end do
    a = -1
    b = -1
    if (s_total(n, v, a) /= total_of_running(n, v, b) .or. any(a /= b)) same = 0
    call s_seeded(n, v, a)
    call seeded(n, v, b)
    if (any(a /= b)) same = 0
    if (s_scalar(n, v) /= scalar_total(n, v)) same = 0
    if (s_local(n, v) /= local_total(n, v)) same = 0
    do i = -600, 600, 97
      if (s_first(n, v, i) /= first_above(n, v, i)) same = 0
    end do
    if (s_first(n, v, 504) /= first_above(n, v, 504)) same = 0
    deallocate(v, a, b)
  end do
  OUTRO
end program check
"""


def _program(target: str) -> str:
    from ellora.tools.loops.region import plan_region

    plan = plan_region(GUARDED, 1, 100, target, language="fortran")
    assert plan.source is not None and len(plan.transformed) == 5, plan.left_serial()
    return plan.source + GUARDED.replace("module guarded", "module serial")


def _build(tmp_path, compiler: list[str], program: str):
    (tmp_path / "check.f90").write_text(program)
    _run([*compiler, "-O2", "-J", str(tmp_path), "-o", str(tmp_path / "check"),
          str(tmp_path / "check.f90")])
    return tmp_path / "check"


def test_guarded_fortran_recurrences_equal_the_serial_procedures_on_threads(tmp_path):
    ported = _program("openmp")
    assert ported.count("!$omp barrier") == 4 and "!$omp parallel reduction(+:total)" in ported
    main = CHECK.replace("INIT", "").replace("INTRO", "").replace(
        "OUTRO", "print '(i0)', same")
    binary = _build(tmp_path, ["gfortran", "-fopenmp"], ported + main)
    for threads in (1, 2, 3, 7):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_guarded_fortran_recurrences_equal_the_serial_procedures_on_ranks(tmp_path):
    ported = _program("mpi")
    assert ported.count("call MPI_Allgather(ellora_mine") == 4
    # run twice; the local running(:) is read by nothing after its loop
    assert ported.count("call MPI_Allgatherv(") == 2
    main = CHECK.replace("INIT", "use mpi_f08").replace(
        "INTRO", "integer :: rank\n  call MPI_Init()\n  call MPI_Comm_rank(MPI_COMM_WORLD, rank)"
    ).replace("OUTRO", "call MPI_Allreduce(MPI_IN_PLACE, same, 1, MPI_INTEGER, MPI_MIN, "
                       "MPI_COMM_WORLD)\n  if (rank == 0) print '(i0)', same\n"
                       "  call MPI_Finalize()")
    binary = _build(tmp_path, ["mpif90"], ported + main)
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"


def test_a_later_read_of_the_element_before_keeps_the_loop_serial():
    from ellora.tools.loops.fortran import FortranSource
    from ellora.tools.loops.legality import decide

    source = GUARDED.replace("total = total + run(k) * 3", "total = total + run(k - 1)")
    parsed = FortranSource(source)
    [loop] = parsed.loops_in_lines(11, 11)
    verdict = decide(parsed.loop_model(loop))
    assert not verdict.parallel and verdict.dependence.subject == "run"




def test_a_search_that_also_writes_an_array_keeps_the_loop_serial():
    from ellora.tools.loops.fortran import FortranSource
    from ellora.tools.loops.legality import decide

    source = GUARDED.replace("        at = 2 * k\n        exit", "        at = 2 * k\n        v2(k) = 0\n        exit")
    assert source != GUARDED
    source = source.replace("    integer :: at, k\n", "    integer :: at, k\n    integer :: v2(n)\n")
    parsed = FortranSource(source)
    loop = next(l for l in parsed.loops_in_lines(1, 200) if b"v(k) > key" in l.text)
    verdict = decide(parsed.loop_model(loop))
    assert not verdict.parallel and verdict.dependence.kind == "exit"


def test_a_fortran_loop_that_does_not_parse_is_refused_as_such():
    from ellora.tools.loops.fortran import FortranSource
    from ellora.tools.loops.legality import decide

    source = ("subroutine s(n, x)\n  integer :: n, i\n  real(8) :: x(n)\n  do i = 1, n\n"
              "    x(i) = x(i) *\n  end do\nend subroutine s\n")
    parsed = FortranSource(source)
    [loop] = parsed.loops_in_lines(4, 4)
    verdict = decide(parsed.loop_model(loop))
    assert not verdict.parallel and "does not parse as Fortran" in verdict.dependence.text
