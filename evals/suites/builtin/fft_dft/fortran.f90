! fft_dft in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module fft_dft_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! The discrete Fourier transform of n complex values (re, im), directly from its sum.
  subroutine dft(n, re, im, outre, outim)
    integer, intent(in) :: n
    real(dp), intent(in) :: re(0:n - 1), im(0:n - 1)
    real(dp), intent(out) :: outre(0:n - 1), outim(0:n - 1)
    real(dp), parameter :: pi = 3.14159265358979323846_dp
    integer :: j, k
    real(dp) :: angle, sumre, sumim
    do j = 0, n - 1
      sumre = 0.0_dp
      sumim = 0.0_dp
      do k = 0, n - 1
        angle = -2.0_dp * pi * real(mod(int(j, 8) * k, int(n, 8)), dp) / real(n, dp)
        sumre = sumre + re(k) * cos(angle) - im(k) * sin(angle)
        sumim = sumim + re(k) * sin(angle) + im(k) * cos(angle)
      end do
      outre(j) = sumre
      outim(j) = sumim
    end do
  end subroutine dft
end module fft_dft_kernel
