! reduce_max_abs in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module reduce_max_abs_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! The largest absolute value of x(1..n) (0 for none).
  function maxAbs(n, x) result(best)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp) :: best, value
    integer :: i
    best = 0.0_dp
    do i = 1, n
      value = abs(x(i))
      if (value > best) best = value
    end do
  end function maxAbs
end module reduce_max_abs_kernel
