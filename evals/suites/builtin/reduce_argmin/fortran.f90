! reduce_argmin in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module reduce_argmin_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! The index of the first smallest of x(1..n).
  function argMin(n, x) result(best)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    integer :: best, i
    best = 1
    do i = 2, n
      if (x(i) < x(best)) best = i
    end do
  end function argMin
end module reduce_argmin_kernel
