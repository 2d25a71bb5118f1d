! Test driver for transform_negate_odds in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program transform_negate_odds_driver
  use ellora_harness
  use transform_negate_odds_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: x0(:), x(:)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x0(n), x(n))
  call ellora_ints(c, x0, -1000, 1000)
  x = x0
  do while (ellora_next(c))
    x = x0
    call negateOddsHalveEvens(n, x)
  end do
  call ellora_output(c, x)
  call ellora_end(c)
end program transform_negate_odds_driver
