! reduce_count_above in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module reduce_count_above_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! How many x(i) exceed threshold.
  function countAbove(n, x, threshold) result(count)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n), threshold
    integer :: count, i
    count = 0
    do i = 1, n
      if (x(i) > threshold) count = count + 1
    end do
  end function countAbove
end module reduce_count_above_kernel
