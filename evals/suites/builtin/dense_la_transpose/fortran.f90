! dense_la_transpose in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module dense_la_transpose_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! b = transpose(a) for an m x n matrix a, written column by column of b.
  subroutine transpose(m, n, a, b)
    integer, intent(in) :: m, n
    real(dp), intent(in) :: a(m, n)
    real(dp), intent(out) :: b(n, m)
    integer :: i, j
    do i = 1, m
      do j = 1, n
        b(j, i) = a(i, j)
      end do
    end do
  end subroutine transpose
end module dense_la_transpose_kernel
