! Test driver for scan_exclusive_int in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program scan_exclusive_int_driver
  use ellora_harness
  use scan_exclusive_int_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: x(:)
  integer(8), allocatable :: out(:)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n), out(n))
  call ellora_ints(c, x, -100, 100)
  out = 0
  do while (ellora_next(c))
    call exclusiveScan(n, x, out)
  end do
  call ellora_output(c, out)
  call ellora_end(c)
end program scan_exclusive_int_driver
