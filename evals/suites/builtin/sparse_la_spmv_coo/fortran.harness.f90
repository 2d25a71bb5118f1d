! Test driver for sparse_la_spmv_coo in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program sparse_la_spmv_coo_driver
  use ellora_harness
  use sparse_la_spmv_coo_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: r(:), col(:)
  real(dp), allocatable :: vals(:), x(:), y(:)
  integer :: rows, nnz
  call ellora_begin(c)
  rows = int(c%size) + 1
  nnz = 8 * int(c%size)
  allocate(r(nnz), col(nnz), vals(nnz), x(rows), y(rows))
  call ellora_ints(c, r, 1, rows)
  call ellora_ints(c, col, 1, rows)
  call ellora_reals(c, vals)
  call ellora_reals(c, x)
  y = 0
  do while (ellora_next(c))
    call spmvCoo(rows, nnz, r, col, vals, x, y)
  end do
  call ellora_output(c, y)
  call ellora_end(c)
end program sparse_la_spmv_coo_driver
