! Test driver for reduce_argmin in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program reduce_argmin_driver
  use ellora_harness
  use reduce_argmin_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: values(:)
  real(dp), allocatable :: x(:)
  integer :: n, result
  call ellora_begin(c)
  n = int(c%size)
  allocate(values(n), x(n))
  call ellora_ints(c, values, -1000, 1000)
  x = values
  result = 0
  do while (ellora_next(c))
    result = argMin(n, x)
  end do
  call ellora_output(c, result - 1)
  call ellora_end(c)
end program reduce_argmin_driver
