! Test driver for dense_la_gemv in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program dense_la_gemv_driver
  use ellora_harness
  use dense_la_gemv_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: at(:, :), x(:), y(:)
  integer :: m, n
  call ellora_begin(c)
  m = int(c%size)
  n = int(c%size) + 3
  allocate(at(n, m), x(n), y(m))
  call ellora_reals(c, at)
  call ellora_reals(c, x)
  y = 0
  do while (ellora_next(c))
    call gemv(m, n, at, x, y)
  end do
  call ellora_output(c, y)
  call ellora_end(c)
end program dense_la_gemv_driver
