! Sparse matrix-vector product y = A x with A in compressed sparse row (CSR) form, as in
! the solvers of sparse linear systems (row_ptr has n + 1 entries; col and val are 1-based).
module spmv_kernel
  implicit none
contains
  subroutine spmv_csr(n, row_ptr, col, val, x, y)
    integer, intent(in) :: n
    integer, intent(in) :: row_ptr(n + 1), col(*)
    double precision, intent(in) :: val(*), x(*)
    double precision, intent(out) :: y(n)
    integer :: i, k
    double precision :: total
    do i = 1, n
      total = 0.0d0
      do k = row_ptr(i), row_ptr(i + 1) - 1
        total = total + val(k) * x(col(k))
      end do
      y(i) = total
    end do
  end subroutine spmv_csr
end module spmv_kernel
