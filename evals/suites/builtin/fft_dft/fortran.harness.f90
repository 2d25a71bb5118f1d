! Test driver for fft_dft in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program fft_dft_driver
  use ellora_harness
  use fft_dft_kernel
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: re(:), im(:), outre(:), outim(:)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(re(n), im(n), outre(n), outim(n))
  call ellora_reals(c, re)
  call ellora_reals(c, im)
  outre = 0
  outim = 0
  do while (ellora_next(c))
    call dft(n, re, im, outre, outim)
  end do
  call ellora_output(c, outre)
  call ellora_output(c, outim)
  call ellora_end(c)
end program fft_dft_driver
