! stencil_heat_steps in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module stencil_heat_steps_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! steps explicit steps of the 1D heat equation on u (ends held fixed).
  subroutine heat1d(n, steps, u)
    integer, intent(in) :: n, steps
    real(dp), intent(inout) :: u(n)
    real(dp) :: next(n)
    integer :: s, i
    next = u
    do s = 1, steps
      do i = 2, n - 1
        next(i) = u(i) + 0.25_dp * (u(i - 1) - 2.0_dp * u(i) + u(i + 1))
      end do
      do i = 2, n - 1
        u(i) = next(i)
      end do
    end do
  end subroutine heat1d
end module stencil_heat_steps_kernel
