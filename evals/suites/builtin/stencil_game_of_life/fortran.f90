! stencil_game_of_life in serial Fortran: the source of Fortran -> OpenMP and Fortran -> MPI tasks.
module stencil_game_of_life_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  ! One step of Conway's game of life on an n x n board (cells outside are dead).
  subroutine lifeStep(n, board, next)
    integer, intent(in) :: n
    integer, intent(in) :: board(n, n)
    integer, intent(out) :: next(n, n)
    integer :: i, j, di, dj, r, s, alive
    do j = 1, n
      do i = 1, n
        alive = 0
        do dj = -1, 1
          do di = -1, 1
            r = i + di
            s = j + dj
            if ((di /= 0 .or. dj /= 0) .and. r >= 1 .and. s >= 1 .and. r <= n .and. s <= n) then
              alive = alive + board(r, s)
            end if
          end do
        end do
        if (alive == 3 .or. (board(i, j) == 1 .and. alive == 2)) then
          next(i, j) = 1
        else
          next(i, j) = 0
        end if
      end do
    end do
  end subroutine lifeStep
end module stencil_game_of_life_kernel
