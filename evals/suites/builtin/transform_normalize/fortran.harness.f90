! Test driver for transform_normalize in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program transform_normalize_driver
  use ellora_harness
  use transform_normalize_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x0(:), x(:)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x0(n), x(n))
  call ellora_reals(c, x0)
  x = x0
  do while (ellora_next(c))
    x = x0
    call normalize(n, x)
  end do
  call ellora_output(c, x)
  call ellora_end(c)
end program transform_normalize_driver
