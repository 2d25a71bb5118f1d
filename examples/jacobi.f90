! One Jacobi sweep of the 2D Laplace equation on an n x n grid (boundary kept): the
! stencil of many PDE solvers, written column by column as Fortran stores arrays.
module jacobi_kernel
  implicit none
contains
  subroutine jacobi_sweep(n, u, unew)
    integer, intent(in) :: n
    double precision, intent(in) :: u(n, n)
    double precision, intent(out) :: unew(n, n)
    integer :: i, j
    unew(:, 1) = u(:, 1)
    unew(:, n) = u(:, n)
    unew(1, :) = u(1, :)
    unew(n, :) = u(n, :)
    do j = 2, n - 1
      do i = 2, n - 1
        unew(i, j) = 0.25d0 * (u(i - 1, j) + u(i + 1, j) + u(i, j - 1) + u(i, j + 1))
      end do
    end do
  end subroutine jacobi_sweep
end module jacobi_kernel
