! Test driver for sparse_la_spmv_csr in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program sparse_la_spmv_csr_driver
  use ellora_harness
  use sparse_la_spmv_csr_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: row_ptr(:), per_row(:), cols(:)
  real(dp), allocatable :: vals(:), x(:), y(:)
  integer :: rows, i
  call ellora_begin(c)
  rows = int(c%size)
  allocate(row_ptr(rows + 1), per_row(rows))
  call ellora_ints(c, per_row, 0, 16)
  row_ptr(1) = 1
  do i = 1, rows
    row_ptr(i + 1) = row_ptr(i) + per_row(i)
  end do
  allocate(cols(row_ptr(rows + 1) - 1), vals(row_ptr(rows + 1) - 1), x(rows + 5), y(rows))
  call ellora_ints(c, cols, 1, rows + 5)
  call ellora_reals(c, vals)
  call ellora_reals(c, x)
  y = 0
  do while (ellora_next(c))
    call spmvCsr(rows, row_ptr, cols, vals, x, y)
  end do
  call ellora_output(c, y)
  call ellora_end(c)
end program sparse_la_spmv_csr_driver
