! transform_normalize in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module transform_normalize_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! Scales x in place to [0, 1] by its smallest and largest values (all 0 when they agree).
  subroutine normalize(n, x)
    integer, intent(in) :: n
    real(dp), intent(inout) :: x(n)
    real(dp) :: lo, hi, range
    integer :: i
    if (n == 0) return
    lo = x(1)
    hi = x(1)
    do i = 2, n
      if (x(i) < lo) lo = x(i)
      if (x(i) > hi) hi = x(i)
    end do
    range = hi - lo
    do i = 1, n
      if (range > 0.0_dp) then
        x(i) = (x(i) - lo) / range
      else
        x(i) = 0.0_dp
      end if
    end do
  end subroutine normalize
end module transform_normalize_kernel
