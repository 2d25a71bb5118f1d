! graph_edge_count in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module graph_edge_count_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! Edges of the undirected graph whose upper triangle is stored in a (a(j, i), j > i).
  function edgeCount(n, a) result(count)
    integer, intent(in) :: n
    integer, intent(in) :: a(n, n)
    integer(8) :: count
    integer :: i, j
    count = 0
    do i = 1, n
      do j = i + 1, n
        count = count + a(j, i)
      end do
    end do
  end function edgeCount
end module graph_edge_count_kernel
