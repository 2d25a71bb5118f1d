! dense_la_gemv in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module dense_la_gemv_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! y = A x where column i of at holds row i of the m x n matrix A (contiguous rows).
  subroutine gemv(m, n, at, x, y)
    integer, intent(in) :: m, n
    real(dp), intent(in) :: at(n, m), x(n)
    real(dp), intent(out) :: y(m)
    integer :: i, j
    real(dp) :: total
    do i = 1, m
      total = 0.0_dp
      do j = 1, n
        total = total + at(j, i) * x(j)
      end do
      y(i) = total
    end do
  end subroutine gemv
end module dense_la_gemv_kernel
