! sparse_la_jacobi_sweep in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module sparse_la_jacobi_sweep_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! One Jacobi sweep x_new = (b - R x_old) / diag for A = diag + R, R in CSR form (1-based).
  subroutine jacobiSweep(rows, row_ptr, cols, vals, diag, b, x_old, x_new)
    integer, intent(in) :: rows
    integer, intent(in) :: row_ptr(rows + 1), cols(*)
    real(dp), intent(in) :: vals(*), diag(rows), b(rows), x_old(*)
    real(dp), intent(out) :: x_new(rows)
    integer :: i, k
    real(dp) :: total
    do i = 1, rows
      total = b(i)
      do k = row_ptr(i), row_ptr(i + 1) - 1
        total = total - vals(k) * x_old(cols(k))
      end do
      x_new(i) = total / diag(i)
    end do
  end subroutine jacobiSweep
end module sparse_la_jacobi_sweep_kernel
