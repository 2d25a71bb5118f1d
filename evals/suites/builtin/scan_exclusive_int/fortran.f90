! scan_exclusive_int in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module scan_exclusive_int_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! out(i) = x(1) + ... + x(i - 1).
  subroutine exclusiveScan(n, x, out)
    integer, intent(in) :: n
    integer, intent(in) :: x(n)
    integer(8), intent(out) :: out(n)
    integer(8) :: running
    integer :: i
    running = 0
    do i = 1, n
      out(i) = running
      running = running + x(i)
    end do
  end subroutine exclusiveScan
end module scan_exclusive_int_kernel
