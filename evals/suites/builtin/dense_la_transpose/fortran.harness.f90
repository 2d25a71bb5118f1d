! Test driver for dense_la_transpose in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program dense_la_transpose_driver
  use ellora_harness
  use dense_la_transpose_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: a(:, :), b(:, :)
  integer :: m, n
  call ellora_begin(c)
  m = int(c%size)
  n = int(c%size) + 2
  allocate(a(m, n), b(n, m))
  call ellora_reals(c, a)
  b = 0
  do while (ellora_next(c))
    call transpose(m, n, a, b)
  end do
  call ellora_output(c, b)
  call ellora_end(c)
end program dense_la_transpose_driver
