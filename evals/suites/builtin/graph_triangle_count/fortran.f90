! graph_triangle_count in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module graph_triangle_count_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! Triangles i < j < k of the graph with adjacency matrix a (column i: edges of vertex i).
  function triangleCount(n, a) result(count)
    integer, intent(in) :: n
    integer, intent(in) :: a(n, n)
    integer(8) :: count
    integer :: i, j, k
    count = 0
    do i = 1, n
      do j = i + 1, n
        if (a(j, i) == 0) cycle
        do k = j + 1, n
          count = count + iand(a(k, i), a(k, j))
        end do
      end do
    end do
  end function triangleCount
end module graph_triangle_count_kernel
