! search_count_pairs_sum in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module search_count_pairs_sum_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! Pairs i < j with x(i) + x(j) equal to target.
  function countPairsWithSum(n, x, target) result(count)
    integer, intent(in) :: n, target
    integer, intent(in) :: x(n)
    integer(8) :: count
    integer :: i, j
    count = 0
    do i = 1, n
      do j = i + 1, n
        if (x(i) + x(j) == target) count = count + 1
      end do
    end do
  end function countPairsWithSum
end module search_count_pairs_sum_kernel
