! histogram_digit_counts in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module histogram_digit_counts_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! counts(d) = how many x(i) (non-negative) have last decimal digit d.
  subroutine digitCounts(n, x, counts)
    integer, intent(in) :: n
    integer, intent(in) :: x(n)
    integer(8), intent(out) :: counts(0:9)
    integer :: i
    counts = 0
    do i = 1, n
      counts(mod(x(i), 10)) = counts(mod(x(i), 10)) + 1
    end do
  end subroutine digitCounts
end module histogram_digit_counts_kernel
