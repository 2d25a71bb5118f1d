! Test driver for graph_edge_count in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program graph_edge_count_driver
  use ellora_harness
  use graph_edge_count_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: a(:, :)
  integer(8) :: result
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(a(n, n))
  call ellora_ints(c, a, 0, 1)
  result = 0
  do while (ellora_next(c))
    result = edgeCount(n, a)
  end do
  call ellora_output(c, result)
  call ellora_end(c)
end program graph_edge_count_driver
