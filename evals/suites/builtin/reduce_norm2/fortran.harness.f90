! Test driver for reduce_norm2 in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program reduce_norm2_driver
  use ellora_harness
  use reduce_norm2_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x(:)
  real(dp) :: result
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n))
  call ellora_reals(c, x)
  result = 0
  do while (ellora_next(c))
    result = norm2(n, x)
  end do
  call ellora_output(c, result)
  call ellora_end(c)
end program reduce_norm2_driver
