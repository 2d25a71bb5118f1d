! dense_la_axpy in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module dense_la_axpy_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  subroutine axpy(n, alpha, x, y, z)
    integer, intent(in) :: n
    real(dp), intent(in) :: alpha, x(n), y(n)
    real(dp), intent(out) :: z(n)
    integer :: i
    do i = 1, n
      z(i) = alpha * x(i) + y(i)
    end do
  end subroutine axpy
end module dense_la_axpy_kernel
