! Test driver for dense_la_gemm in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program dense_la_gemm_driver
  use ellora_harness
  use dense_la_gemm_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: a(:, :), b(:, :), m(:, :)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(a(n, n), b(n, n), m(n, n))
  call ellora_reals(c, a)
  call ellora_reals(c, b)
  m = 0
  do while (ellora_next(c))
    call gemm(n, a, b, m)
  end do
  call ellora_output(c, m)
  call ellora_end(c)
end program dense_la_gemm_driver
