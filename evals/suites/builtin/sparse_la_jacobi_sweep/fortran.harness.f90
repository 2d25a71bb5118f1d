! Test driver for sparse_la_jacobi_sweep in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program sparse_la_jacobi_sweep_driver
  use ellora_harness
  use sparse_la_jacobi_sweep_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: row_ptr(:), per_row(:), cols(:)
  real(dp), allocatable :: vals(:), diag(:), b(:), x_old(:), x_new(:)
  integer :: rows, i
  call ellora_begin(c)
  rows = int(c%size)
  allocate(row_ptr(rows + 1), per_row(rows))
  call ellora_ints(c, per_row, 0, 12)
  row_ptr(1) = 1
  do i = 1, rows
    row_ptr(i + 1) = row_ptr(i) + per_row(i)
  end do
  allocate(cols(row_ptr(rows + 1) - 1), vals(row_ptr(rows + 1) - 1))
  allocate(diag(rows), b(rows), x_old(rows), x_new(rows))
  call ellora_ints(c, cols, 1, rows)
  call ellora_reals(c, vals)
  call ellora_reals(c, diag, 4.0_dp, 8.0_dp)
  call ellora_reals(c, b)
  call ellora_reals(c, x_old)
  x_new = 0
  do while (ellora_next(c))
    call jacobiSweep(rows, row_ptr, cols, vals, diag, b, x_old, x_new)
  end do
  call ellora_output(c, x_new)
  call ellora_end(c)
end program sparse_la_jacobi_sweep_driver
