! Test driver for stencil_game_of_life in Fortran (see tools/harness/ellora_harness.f90): random
! inputs, the kernel, its outputs. Built with fortran.f90 (reference) or a candidate.
program stencil_game_of_life_driver
  use ellora_harness
  use stencil_game_of_life_kernel
  implicit none
  type(ellora_case) :: c
  integer, allocatable :: board(:, :), next(:, :)
  integer :: n
  call ellora_begin(c)
  n = int(c%size)
  allocate(board(n, n), next(n, n))
  call ellora_ints(c, board, 0, 1)
  next = 0
  do while (ellora_next(c))
    call lifeStep(n, board, next)
  end do
  call ellora_output(c, next)
  call ellora_end(c)
end program stencil_game_of_life_driver
