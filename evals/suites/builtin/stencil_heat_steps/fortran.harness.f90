! Test driver for stencil_heat_steps in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program stencil_heat_steps_driver
  use ellora_harness
  use stencil_heat_steps_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: u0(:), u(:)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(u0(n), u(n))
  call ellora_reals(c, u0)
  u = u0
  do while (ellora_next(c))
    u = u0
    call heat1d(n, 20, u)
  end do
  call ellora_output(c, u)
  call ellora_end(c)
end program stencil_heat_steps_driver
