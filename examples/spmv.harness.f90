! Differential test and timing harness for spmv.f90 (see tools/harness/ellora_harness.f90):
! n rows of 0 to 16 nonzeros each, columns drawn from n + 5.
program spmv_harness
  use ellora_harness
  use spmv_kernel, only: spmv_csr
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: row_ptr(:), per_row(:), col(:)
  double precision, allocatable :: val(:), x(:), y(:)
  integer :: n, i
  call ellora_begin(c)
  n = int(c%size)
  allocate(row_ptr(n + 1), per_row(n))
  call ellora_ints(c, per_row, 0, 16)
  row_ptr(1) = 1
  do i = 1, n
    row_ptr(i + 1) = row_ptr(i) + per_row(i)
  end do
  allocate(col(row_ptr(n + 1) - 1), val(row_ptr(n + 1) - 1), x(n + 5), y(n))
  call ellora_ints(c, col, 1, n + 5)
  call ellora_reals(c, val)
  call ellora_reals(c, x)
  y = 0
  do while (ellora_next(c))
    call spmv_csr(n, row_ptr, col, val, x, y)
  end do
  call ellora_output(c, y)
  call ellora_end(c)
end program spmv_harness
