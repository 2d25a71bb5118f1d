! stencil_2d_jacobi in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module stencil_2d_jacobi_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! One Jacobi step on an n x n grid: interior points the mean of themselves and their four
  ! neighbours, boundary points copied.
  subroutine jacobi2d(n, u, unew)
    integer, intent(in) :: n
    real(dp), intent(in) :: u(n, n)
    real(dp), intent(out) :: unew(n, n)
    integer :: i, j
    do j = 1, n
      do i = 1, n
        if (i == 1 .or. j == 1 .or. i == n .or. j == n) then
          unew(i, j) = u(i, j)
        else
          unew(i, j) = (u(i - 1, j) + u(i + 1, j) + u(i, j - 1) + u(i, j + 1) + u(i, j)) / 5.0_dp
        end if
      end do
    end do
  end subroutine jacobi2d
end module stencil_2d_jacobi_kernel
