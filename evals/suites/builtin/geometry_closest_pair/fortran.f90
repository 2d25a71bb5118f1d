! geometry_closest_pair in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module geometry_closest_pair_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! The smallest distance between two of n points (x(i), y(i)).
  function closestPairDistance(n, x, y) result(best)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n), y(n)
    real(dp) :: best, dx, dy, d
    integer :: i, j
    best = huge(best)
    do i = 1, n
      do j = i + 1, n
        dx = x(i) - x(j)
        dy = y(i) - y(j)
        d = sqrt(dx * dx + dy * dy)
        if (d < best) best = d
      end do
    end do
  end function closestPairDistance
end module geometry_closest_pair_kernel
