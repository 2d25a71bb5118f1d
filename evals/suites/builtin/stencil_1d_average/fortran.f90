! stencil_1d_average in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module stencil_1d_average_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! out(i) = the mean of x(i - 1), x(i), x(i + 1) (zero beyond the ends).
  subroutine average3(n, x, out)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: out(n)
    real(dp) :: left, right
    integer :: i
    do i = 1, n
      left = 0.0_dp
      right = 0.0_dp
      if (i > 1) left = x(i - 1)
      if (i < n) right = x(i + 1)
      out(i) = (left + x(i) + right) / 3.0_dp
    end do
  end subroutine average3
end module stencil_1d_average_kernel
