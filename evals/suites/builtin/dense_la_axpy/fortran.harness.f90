! Test driver for dense_la_axpy in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program dense_la_axpy_driver
  use ellora_harness
  use dense_la_axpy_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x(:), y(:), z(:)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n), y(n), z(n))
  call ellora_reals(c, x)
  call ellora_reals(c, y)
  z = 0
  do while (ellora_next(c))
    call axpy(n, 2.5_dp, x, y, z)
  end do
  call ellora_output(c, z)
  call ellora_end(c)
end program dense_la_axpy_driver
