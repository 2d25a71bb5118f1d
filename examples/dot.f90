! Dot product of two vectors: a reduction, the core of every Krylov solver's inner products.
module dot_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function dot(n, x, y) result(total)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n), y(n)
    real(dp) :: total
    integer :: i
    total = 0.0_dp
    do i = 1, n
      total = total + x(i) * y(i)
    end do
  end function dot
end module dot_kernel
