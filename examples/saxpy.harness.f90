! Differential test and timing harness for saxpy.f90 (see tools/harness/ellora_harness.f90).
program saxpy_harness
  use ellora_harness
  use saxpy_kernel, only: saxpy
  implicit none
  type(ellora_case) :: c
  real, allocatable :: x(:), y(:)
  call ellora_begin(c)
  allocate(x(c%size), y(c%size))
  call ellora_reals(c, x)
  call ellora_reals(c, y)
  do while (ellora_next(c))
    call saxpy(int(c%size), 2.5, x, y)
  end do
  call ellora_output(c, y)
  call ellora_end(c)
end program saxpy_harness
