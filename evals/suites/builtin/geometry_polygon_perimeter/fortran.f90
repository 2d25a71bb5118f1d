! geometry_polygon_perimeter in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module geometry_polygon_perimeter_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! The perimeter of the closed polygon through n points (x(i), y(i)).
  function polygonPerimeter(n, x, y) result(total)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n), y(n)
    real(dp) :: total, dx, dy
    integer :: i, j
    total = 0.0_dp
    if (n < 2) return
    do i = 1, n
      j = mod(i, n) + 1
      dx = x(j) - x(i)
      dy = y(j) - y(i)
      total = total + sqrt(dx * dx + dy * dy)
    end do
  end function polygonPerimeter
end module geometry_polygon_perimeter_kernel
