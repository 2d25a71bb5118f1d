! transform_negate_odds in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module transform_negate_odds_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! Odd values negated, even ones halved, in place.
  subroutine negateOddsHalveEvens(n, x)
    integer, intent(in) :: n
    integer, intent(inout) :: x(n)
    integer :: i
    do i = 1, n
      if (mod(x(i), 2) /= 0) then
        x(i) = -x(i)
      else
        x(i) = x(i) / 2
      end if
    end do
  end subroutine negateOddsHalveEvens
end module transform_negate_odds_kernel
