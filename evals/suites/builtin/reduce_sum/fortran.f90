! reduce_sum in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module reduce_sum_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function sum(n, x) result(total)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp) :: total
    integer :: i
    total = 0.0_dp
    do i = 1, n
      total = total + x(i)
    end do
  end function sum
end module reduce_sum_kernel
