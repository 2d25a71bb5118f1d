! histogram_bins in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module histogram_bins_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! counts(b) = how many x(i) in [0, 1) fall into bin b of bins equal bins (0-based).
  subroutine histogram(n, x, bins, counts)
    integer, intent(in) :: n, bins
    real(dp), intent(in) :: x(n)
    integer(8), intent(out) :: counts(0:bins - 1)
    integer :: i, b
    counts = 0
    do i = 1, n
      b = int(x(i) * bins)
      counts(b) = counts(b) + 1
    end do
  end subroutine histogram
end module histogram_bins_kernel
