! scan_running_max in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module scan_running_max_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! out(i) = the largest of x(1..i).
  subroutine runningMax(n, x, out)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: out(n)
    integer :: i
    if (n < 1) return
    out(1) = x(1)
    do i = 2, n
      out(i) = max(out(i - 1), x(i))
    end do
  end subroutine runningMax
end module scan_running_max_kernel
