! Test driver for graph_degrees in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program graph_degrees_driver
  use ellora_harness
  use graph_degrees_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: a(:, :), deg(:)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(a(n, n), deg(n))
  call ellora_ints(c, a, 0, 1)
  deg = 0
  do while (ellora_next(c))
    call degrees(n, a, deg)
  end do
  call ellora_output(c, deg)
  call ellora_end(c)
end program graph_degrees_driver
