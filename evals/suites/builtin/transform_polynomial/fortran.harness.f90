! Test driver for transform_polynomial in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program transform_polynomial_driver
  use ellora_harness
  use transform_polynomial_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x(:), coef(:), y(:)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n), coef(0:16), y(n))
  call ellora_reals(c, x)
  call ellora_reals(c, coef)
  y = 0
  do while (ellora_next(c))
    call evalPolynomial(n, x, coef, 16, y)
  end do
  call ellora_output(c, y)
  call ellora_end(c)
end program transform_polynomial_driver
