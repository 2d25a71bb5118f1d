! sparse_la_spmv_csr in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module sparse_la_spmv_csr_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! y = A x for A in compressed sparse row form (row_ptr has rows + 1 entries; 1-based).
  subroutine spmvCsr(rows, row_ptr, cols, vals, x, y)
    integer, intent(in) :: rows
    integer, intent(in) :: row_ptr(rows + 1), cols(*)
    real(dp), intent(in) :: vals(*), x(*)
    real(dp), intent(out) :: y(rows)
    integer :: i, k
    real(dp) :: total
    do i = 1, rows
      total = 0.0_dp
      do k = row_ptr(i), row_ptr(i + 1) - 1
        total = total + vals(k) * x(cols(k))
      end do
      y(i) = total
    end do
  end subroutine spmvCsr
end module sparse_la_spmv_csr_kernel
