! Test driver for search_count_pairs_sum in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program search_count_pairs_sum_driver
  use ellora_harness
  use search_count_pairs_sum_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: x(:)
  integer(8) :: result
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n))
  call ellora_ints(c, x, -50, 50)
  result = 0
  do while (ellora_next(c))
    result = countPairsWithSum(n, x, 7)
  end do
  call ellora_output(c, result)
  call ellora_end(c)
end program search_count_pairs_sum_driver
