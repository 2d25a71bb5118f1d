! Test driver for geometry_closest_pair in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program geometry_closest_pair_driver
  use ellora_harness
  use geometry_closest_pair_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x(:), y(:)
  real(dp) :: result
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n), y(n))
  call ellora_reals(c, x)
  call ellora_reals(c, y)
  result = 0
  do while (ellora_next(c))
    result = closestPairDistance(n, x, y)
  end do
  call ellora_output(c, result)
  call ellora_end(c)
end program geometry_closest_pair_driver
