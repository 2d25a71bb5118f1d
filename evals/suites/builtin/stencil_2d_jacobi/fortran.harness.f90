! Test driver for stencil_2d_jacobi in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program stencil_2d_jacobi_driver
  use ellora_harness
  use stencil_2d_jacobi_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: u(:, :), unew(:, :)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(u(n, n), unew(n, n))
  call ellora_reals(c, u)
  unew = 0
  do while (ellora_next(c))
    call jacobi2d(n, u, unew)
  end do
  call ellora_output(c, unew)
  call ellora_end(c)
end program stencil_2d_jacobi_driver
