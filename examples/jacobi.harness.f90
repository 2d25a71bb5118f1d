! Differential test and timing harness for jacobi.f90 (see tools/harness/ellora_harness.f90).
! The harness size is the number of grid points; the grid is the largest square that fits.
program jacobi_harness
  use ellora_harness
  use jacobi_kernel, only: jacobi_sweep
  implicit none
  type(ellora_case) :: c
  double precision, allocatable :: u(:, :), unew(:, :)
  integer :: n
  call ellora_begin(c)
  n = max(1, int(sqrt(real(c%size, 8))))
  allocate(u(n, n), unew(n, n))
  call ellora_reals(c, u)
  unew = 0
  do while (ellora_next(c))
    call jacobi_sweep(n, u, unew)
  end do
  call ellora_output(c, unew)
  call ellora_end(c)
end program jacobi_harness
