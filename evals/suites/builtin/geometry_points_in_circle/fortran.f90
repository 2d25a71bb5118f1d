! geometry_points_in_circle in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module geometry_points_in_circle_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! How many of n points lie in the circle of radius r around (cx, cy).
  function countInCircle(n, x, y, cx, cy, r) result(count)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n), y(n), cx, cy, r
    integer :: count, i
    real(dp) :: dx, dy
    count = 0
    do i = 1, n
      dx = x(i) - cx
      dy = y(i) - cy
      if (dx * dx + dy * dy <= r * r) count = count + 1
    end do
  end function countInCircle
end module geometry_points_in_circle_kernel
