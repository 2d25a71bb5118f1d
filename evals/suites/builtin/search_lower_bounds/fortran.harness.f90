! Test driver for search_lower_bounds in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program search_lower_bounds_driver
  use ellora_harness
  use search_lower_bounds_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: sorted(:), queries(:)
  integer, allocatable :: out(:)
  integer :: n, m, i
  call ellora_begin(c)
  n = int(c%size)
  m = int(c%size)
  allocate(sorted(n), queries(m), out(m))
  do i = 1, n
    sorted(i) = 0.5_dp * i + 0.25_dp * ellora_uniform(c)
  end do
  call ellora_reals(c, queries, -1.0_dp, 0.5_dp * n + 1.0_dp)
  out = 0
  do while (ellora_next(c))
    call lowerBounds(n, sorted, m, queries, out)
  end do
  call ellora_output(c, out - 1)
  call ellora_end(c)
end program search_lower_bounds_driver
