! scan_prefix_sum in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module scan_prefix_sum_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! out(i) = x(1) + ... + x(i).
  subroutine prefixSum(n, x, out)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: out(n)
    real(dp) :: running
    integer :: i
    running = 0.0_dp
    do i = 1, n
      running = running + x(i)
      out(i) = running
    end do
  end subroutine prefixSum
end module scan_prefix_sum_kernel
