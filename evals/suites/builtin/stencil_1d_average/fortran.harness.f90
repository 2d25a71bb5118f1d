! Test driver for stencil_1d_average in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program stencil_1d_average_driver
  use ellora_harness
  use stencil_1d_average_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x(:), out(:)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n), out(n))
  call ellora_reals(c, x)
  out = 0
  do while (ellora_next(c))
    call average3(n, x, out)
  end do
  call ellora_output(c, out)
  call ellora_end(c)
end program stencil_1d_average_driver
