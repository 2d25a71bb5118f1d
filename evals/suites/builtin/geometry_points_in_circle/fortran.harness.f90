! Test driver for geometry_points_in_circle in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program geometry_points_in_circle_driver
  use ellora_harness
  use geometry_points_in_circle_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x(:), y(:)
  integer :: n, result
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n), y(n))
  call ellora_reals(c, x)
  call ellora_reals(c, y)
  result = 0
  do while (ellora_next(c))
    result = countInCircle(n, x, y, 0.1_dp, -0.2_dp, 0.7_dp)
  end do
  call ellora_output(c, result)
  call ellora_end(c)
end program geometry_points_in_circle_driver
