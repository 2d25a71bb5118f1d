! transform_polynomial in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module transform_polynomial_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! y(i) = coef(0) + coef(1) x(i) + ... + coef(degree) x(i)**degree, by Horner's rule.
  subroutine evalPolynomial(n, x, coef, degree, y)
    integer, intent(in) :: n, degree
    real(dp), intent(in) :: x(n), coef(0:degree)
    real(dp), intent(out) :: y(n)
    real(dp) :: value
    integer :: i, d
    do i = 1, n
      value = 0.0_dp
      do d = degree, 0, -1
        value = value * x(i) + coef(d)
      end do
      y(i) = value
    end do
  end subroutine evalPolynomial
end module transform_polynomial_kernel
