! reduce_norm2 in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module reduce_norm2_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! The Euclidean norm of x(1..n).
  function norm2(n, x) result(norm)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp) :: norm, squares
    integer :: i
    squares = 0.0_dp
    do i = 1, n
      squares = squares + x(i) * x(i)
    end do
    norm = sqrt(squares)
  end function norm2
end module reduce_norm2_kernel
