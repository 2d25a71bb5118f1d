! sparse_la_spmv_coo in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module sparse_la_spmv_coo_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! y = A x for A given as nnz (row, column, value) triples (1-based).
  subroutine spmvCoo(rows, nnz, row_idx, col_idx, vals, x, y)
    integer, intent(in) :: rows, nnz
    integer, intent(in) :: row_idx(nnz), col_idx(nnz)
    real(dp), intent(in) :: vals(nnz), x(*)
    real(dp), intent(out) :: y(rows)
    integer :: i, k
    do i = 1, rows
      y(i) = 0.0_dp
    end do
    do k = 1, nnz
      y(row_idx(k)) = y(row_idx(k)) + vals(k) * x(col_idx(k))
    end do
  end subroutine spmvCoo
end module sparse_la_spmv_coo_kernel
