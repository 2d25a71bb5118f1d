! Differential test and timing harness for dot.f90 (see tools/harness/ellora_harness.f90).
program dot_harness
  use ellora_harness
  use dot_kernel, only: dot, dp
  implicit none
  type(ellora_case) :: c
  real(dp), allocatable :: x(:), y(:)
  real(dp) :: result
  call ellora_begin(c)
  allocate(x(c%size), y(c%size))
  call ellora_reals(c, x)
  call ellora_reals(c, y)
  result = 0
  do while (ellora_next(c))
    result = dot(int(c%size), x, y)
  end do
  call ellora_output(c, result)
  call ellora_end(c)
end program dot_harness
