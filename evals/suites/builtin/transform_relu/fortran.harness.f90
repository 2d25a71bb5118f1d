! Test driver for transform_relu in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program transform_relu_driver
  use ellora_harness
  use transform_relu_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x(:)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n))
  call ellora_reals(c, x)
  do while (ellora_next(c))
    call relu(n, x)
  end do
  call ellora_output(c, x)
  call ellora_end(c)
end program transform_relu_driver
