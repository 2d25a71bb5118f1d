! Test driver for histogram_digit_counts in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program histogram_digit_counts_driver
  use ellora_harness
  use histogram_digit_counts_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: x(:)
  integer(8) :: counts(0:9)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n))
  call ellora_ints(c, x, 0, 1000000)
  counts = 0
  do while (ellora_next(c))
    call digitCounts(n, x, counts)
  end do
  call ellora_output(c, counts)
  call ellora_end(c)
end program histogram_digit_counts_driver
