! dense_la_gemm in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module dense_la_gemm_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! C = A B for n x n matrices, column by column.
  subroutine gemm(n, a, b, c)
    integer, intent(in) :: n
    real(dp), intent(in) :: a(n, n), b(n, n)
    real(dp), intent(out) :: c(n, n)
    integer :: i, j, k
    real(dp) :: total
    do j = 1, n
      do i = 1, n
        total = 0.0_dp
        do k = 1, n
          total = total + a(i, k) * b(k, j)
        end do
        c(i, j) = total
      end do
    end do
  end subroutine gemm
end module dense_la_gemm_kernel
