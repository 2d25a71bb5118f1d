! Test driver for histogram_bins in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program histogram_bins_driver
  use ellora_harness
  use histogram_bins_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x(:)
  integer(8) :: counts(0:63)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(x(n))
  call ellora_reals(c, x, 0.0_dp, 0.999999_dp)
  counts = 0
  do while (ellora_next(c))
    call histogram(n, x, 64, counts)
  end do
  call ellora_output(c, counts)
  call ellora_end(c)
end program histogram_bins_driver
