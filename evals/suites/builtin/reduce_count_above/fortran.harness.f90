! Test driver for reduce_count_above in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program reduce_count_above_driver
  use ellora_harness
  use reduce_count_above_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x(:)
  integer :: n, result
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n))
  call ellora_reals(c, x)
  result = 0
  do while (ellora_next(c))
    result = countAbove(n, x, 0.25_dp)
  end do
  call ellora_output(c, result)
  call ellora_end(c)
end program reduce_count_above_driver
