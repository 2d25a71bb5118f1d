! transform_relu in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module transform_relu_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! Negative values set to zero, in place.
  subroutine relu(n, x)
    integer, intent(in) :: n
    real(dp), intent(inout) :: x(n)
    integer :: i
    do i = 1, n
      if (x(i) < 0.0_dp) x(i) = 0.0_dp
    end do
  end subroutine relu
end module transform_relu_kernel
