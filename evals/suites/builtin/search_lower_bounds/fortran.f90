! search_lower_bounds in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module search_lower_bounds_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! out(q) = the first index (1-based) of sorted whose value is not below queries(q), or n + 1.
  subroutine lowerBounds(n, sorted, m, queries, out)
    integer, intent(in) :: n, m
    real(dp), intent(in) :: sorted(n), queries(m)
    integer, intent(out) :: out(m)
    integer :: q, lo, hi, mid
    do q = 1, m
      lo = 1
      hi = n + 1
      do while (lo < hi)
        mid = lo + (hi - lo) / 2
        if (sorted(mid) < queries(q)) then
          lo = mid + 1
        else
          hi = mid
        end if
      end do
      out(q) = lo
    end do
  end subroutine lowerBounds
end module search_lower_bounds_kernel
