! graph_degrees in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module graph_degrees_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! The degree of each vertex: column i of the adjacency matrix a lists the edges of vertex i.
  subroutine degrees(n, a, deg)
    integer, intent(in) :: n
    integer, intent(in) :: a(n, n)
    integer, intent(out) :: deg(n)
    integer :: i, j, d
    do i = 1, n
      d = 0
      do j = 1, n
        d = d + a(j, i)
      end do
      deg(i) = d
    end do
  end subroutine degrees
end module graph_degrees_kernel
