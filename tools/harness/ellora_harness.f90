! Ellora differential-test and timing harness for Fortran (the protocol of ellora_harness.hpp).
!
! A harness program uses this module and the code under test, then describes one test case:
! how to make inputs of a given size, which call is the kernel, which values are the outputs.
! Ellora builds it twice (original and candidate), runs both on the same sizes and seeds,
! compares the outputs with a tolerance, and times the kernel.
!
!   ./harness --size N --seed S --mode check --output out.bin   writes outputs (doubles)
!   ./harness --size N --seed S --mode time --repeats R         prints "ellora-time: <s>"
!
!   program saxpy_harness
!     use ellora_harness
!     use kernels, only: saxpy
!     type(ellora_case) :: c
!     real(8), allocatable :: x(:), y(:)
!     call ellora_begin(c)
!     allocate(x(c%size), y(c%size))
!     call ellora_reals(c, x)
!     call ellora_reals(c, y)
!     do while (ellora_next(c))          ! once to check; warm-up + repeats to time
!       call saxpy(int(c%size), 2.0d0, x, y)
!     end do
!     call ellora_output(c, y)
!     call ellora_end(c)
!   end program
!
! Inputs come from splitmix64, the same stream as the C++ harness for the same seed, so a
! Fortran harness can make the very inputs a C++ one makes. Ellora stages this file as
! ellora_harness.F90 (preprocessed): built with -DELLORA_WITH_MPI, every rank runs the
! kernel, MPI is initialized here, and rank 0 alone writes outputs and times.
module ellora_harness
  use, intrinsic :: iso_fortran_env, only: int32, int64, real32, real64, error_unit
#ifdef ELLORA_WITH_MPI
  use mpi_f08
#endif
  implicit none
  private

  type, public :: ellora_case
    integer(int64) :: size = 1000
    integer(int64) :: seed = 1
    integer :: repeats = 5
    logical :: timing = .false.
    character(len=:), allocatable :: output_path
    integer(int64) :: state = 0
    integer :: run = 0
    integer(int64) :: started = 0
    real(real64), allocatable :: seconds(:)
    real(real64), allocatable :: outputs(:)
    integer(int64) :: count = 0
  end type ellora_case

  integer(int64), parameter :: golden = -7046029254386353131_int64  ! 0x9E3779B97F4A7C15
  integer(int64), parameter :: mix1 = -4658895280553007687_int64    ! 0xBF58476D1CE4E5B9
  integer(int64), parameter :: mix2 = -7723592293110705685_int64    ! 0x94D049BB133111EB

  public :: ellora_begin, ellora_next, ellora_end, ellora_uniform, ellora_rank
  public :: ellora_reals, ellora_ints, ellora_output

  interface ellora_reals
    module procedure reals_1d, reals_2d, reals32_1d
  end interface ellora_reals
  interface ellora_ints
    module procedure ints32_1d, ints64_1d, ints32_2d
  end interface ellora_ints
  interface ellora_output
    module procedure output_real_1d, output_real_2d, output_int_1d, output_int64_1d, &
      output_int_2d, output_real, output_int, output_int64, output_real32_1d
  end interface ellora_output

contains

  !> Rank 0 alone writes outputs and times; every rank runs the kernel (MPI builds).
  integer function ellora_rank()
#ifdef ELLORA_WITH_MPI
    call MPI_Comm_rank(MPI_COMM_WORLD, ellora_rank)
#else
    ellora_rank = 0
#endif
  end function ellora_rank

  subroutine barrier()
#ifdef ELLORA_WITH_MPI
    call MPI_Barrier(MPI_COMM_WORLD)
#endif
  end subroutine barrier

  !> Reads --size, --seed, --repeats, --mode and --output; starts MPI in MPI builds.
  subroutine ellora_begin(c)
    type(ellora_case), intent(inout) :: c
    integer :: i, count, length
    character(len=4096) :: arg, value
#ifdef ELLORA_WITH_MPI
    call MPI_Init()
#endif
    count = command_argument_count()
    c%output_path = ""
    i = 1
    do while (i <= count)
      call get_command_argument(i, arg)
      value = ""
      if (i < count) call get_command_argument(i + 1, value, length)
      select case (trim(arg))
      case ("--size")
        read (value, *) c%size
        i = i + 1
      case ("--seed")
        read (value, *) c%seed
        i = i + 1
      case ("--repeats")
        read (value, *) c%repeats
        c%repeats = max(1, c%repeats)
        i = i + 1
      case ("--mode")
        c%timing = trim(value) == "time"
        i = i + 1
      case ("--output")
        c%output_path = trim(value)
        i = i + 1
      end select
      i = i + 1
    end do
    c%state = ieor(c%seed, golden)
    allocate(c%seconds(c%repeats), c%outputs(1024))
  end subroutine ellora_begin

  !> Drives the kernel loop: true once in check mode; a warm-up and then `repeats` timed
  !> runs in time mode (each between barriers), the median kept for ellora_end.
  logical function ellora_next(c)
    type(ellora_case), intent(inout) :: c
    integer(int64) :: now, rate
    if (.not. c%timing) then
      c%run = c%run + 1
      ellora_next = c%run == 1
      return
    end if
    if (c%run >= 2) then  ! a timed run just finished
      call barrier()
      call system_clock(now, rate)
      c%seconds(c%run - 1) = real(now - c%started, real64) / real(rate, real64)
    end if
    c%run = c%run + 1
    if (c%run == 1) then  ! the warm-up
      ellora_next = .true.
      return
    end if
    if (c%run - 1 > c%repeats) then
      ellora_next = .false.
      return
    end if
    call barrier()
    call system_clock(c%started, rate)
    ellora_next = .true.
  end function ellora_next

  !> Writes the outputs (check mode) or prints the median time (time mode); ends MPI.
  subroutine ellora_end(c)
    type(ellora_case), intent(inout) :: c
    integer :: unit, status
    if (ellora_rank() == 0) then
      if (c%timing) then
        print '(a, es17.9e3)', 'ellora-time: ', median(c%seconds)
      else if (len(c%output_path) == 0) then
        write (error_unit, '(a)') 'ellora-harness: check mode needs --output PATH'
        call finish()
        error stop 2
      else
        open (newunit=unit, file=c%output_path, access='stream', form='unformatted', &
              status='replace', action='write', iostat=status)
        if (status /= 0) then
          write (error_unit, '(a)') 'ellora-harness: cannot open the output file'
          call finish()
          error stop 2
        end if
        write (unit) c%outputs(1:c%count)
        close (unit)
        print '(a, i0)', 'ellora-outputs: ', c%count
      end if
    end if
    call finish()
  end subroutine ellora_end

  subroutine finish()
#ifdef ELLORA_WITH_MPI
    call MPI_Finalize()
#endif
  end subroutine finish

  real(real64) function median(values)
    real(real64), intent(in) :: values(:)
    real(real64) :: sorted(size(values)), swap
    integer :: i, j
    sorted = values
    do i = 2, size(sorted)  ! insertion sort: a handful of repeats
      swap = sorted(i)
      j = i - 1
      do while (j >= 1)
        if (sorted(j) <= swap) exit
        sorted(j + 1) = sorted(j)
        j = j - 1
      end do
      sorted(j + 1) = swap
    end do
    median = sorted(size(sorted) / 2 + 1)
  end function median

  ! ----- inputs: splitmix64, as in ellora_harness.hpp ------------------------------------
  ! The arithmetic is modulo 2**64 as in C's uint64_t; Fortran integers must not overflow
  ! (optimizers rely on it), so sums and products are formed in 128 bits and wrapped.
  integer(int64) function wrapped(value)
    integer, parameter :: wide = selected_int_kind(38)
    integer(wide), intent(in) :: value
    integer(wide) :: low
    low = modulo(value, 2_wide**64)
    if (low >= 2_wide**63) low = low - 2_wide**64
    wrapped = int(low, int64)
  end function wrapped

  integer(int64) function next_value(c)
    type(ellora_case), intent(inout) :: c
    integer, parameter :: wide = selected_int_kind(38)
    integer(int64) :: z
    c%state = wrapped(int(c%state, wide) + int(golden, wide))
    z = c%state
    z = wrapped(int(ieor(z, shiftr(z, 30)), wide) * int(mix1, wide))
    z = wrapped(int(ieor(z, shiftr(z, 27)), wide) * int(mix2, wide))
    next_value = ieor(z, shiftr(z, 31))
  end function next_value

  !> A uniform double in [0, 1).
  real(real64) function ellora_uniform(c)
    type(ellora_case), intent(inout) :: c
    ellora_uniform = real(shiftr(next_value(c), 11), real64) * 2.0_real64**(-53)
  end function ellora_uniform

  !> An integer in [lo, hi], the C++ harness's draw: (next * span) >> 64.
  integer(int64) function draw(c, lo, hi)
    type(ellora_case), intent(inout) :: c
    integer(int64), intent(in) :: lo, hi
    integer, parameter :: wide = selected_int_kind(38)
    integer(wide) :: value, span
    value = int(next_value(c), wide)
    if (value < 0) value = value + 2_wide**64
    span = int(hi, wide) - int(lo, wide) + 1_wide
    draw = lo + int(shiftr(value * span, 64), int64)
  end function draw

  subroutine reals_1d(c, values, lo, hi)
    type(ellora_case), intent(inout) :: c
    real(real64), intent(out) :: values(:)
    real(real64), intent(in), optional :: lo, hi
    real(real64) :: low, span
    integer(int64) :: i
    low = -1.0_real64
    span = 2.0_real64
    if (present(lo)) low = lo
    if (present(hi)) span = hi - low
    do i = 1, size(values, kind=int64)
      values(i) = low + span * ellora_uniform(c)
    end do
  end subroutine reals_1d

  subroutine reals32_1d(c, values, lo, hi)
    type(ellora_case), intent(inout) :: c
    real(real32), intent(out) :: values(:)
    real(real32), intent(in), optional :: lo, hi
    real(real64) :: low, span
    integer(int64) :: i
    low = -1.0_real64
    span = 2.0_real64
    if (present(lo)) low = lo
    if (present(hi)) span = real(hi, real64) - low
    do i = 1, size(values, kind=int64)
      values(i) = real(low + span * ellora_uniform(c), real32)
    end do
  end subroutine reals32_1d

  !> A matrix filled in storage (column-major) order.
  subroutine reals_2d(c, values, lo, hi)
    type(ellora_case), intent(inout) :: c
    real(real64), intent(out) :: values(:, :)
    real(real64), intent(in), optional :: lo, hi
    real(real64) :: low, span
    integer(int64) :: i, j
    low = -1.0_real64
    span = 2.0_real64
    if (present(lo)) low = lo
    if (present(hi)) span = hi - low
    do j = 1, size(values, 2, kind=int64)
      do i = 1, size(values, 1, kind=int64)
        values(i, j) = low + span * ellora_uniform(c)
      end do
    end do
  end subroutine reals_2d

  subroutine ints32_1d(c, values, lo, hi)
    type(ellora_case), intent(inout) :: c
    integer(int32), intent(out) :: values(:)
    integer, intent(in) :: lo, hi
    integer(int64) :: i
    do i = 1, size(values, kind=int64)
      values(i) = int(draw(c, int(lo, int64), int(hi, int64)), int32)
    end do
  end subroutine ints32_1d

  subroutine ints64_1d(c, values, lo, hi)
    type(ellora_case), intent(inout) :: c
    integer(int64), intent(out) :: values(:)
    integer(int64), intent(in) :: lo, hi
    integer(int64) :: i
    do i = 1, size(values, kind=int64)
      values(i) = draw(c, lo, hi)
    end do
  end subroutine ints64_1d

  subroutine ints32_2d(c, values, lo, hi)
    type(ellora_case), intent(inout) :: c
    integer(int32), intent(out) :: values(:, :)
    integer, intent(in) :: lo, hi
    integer(int64) :: i, j
    do j = 1, size(values, 2, kind=int64)
      do i = 1, size(values, 1, kind=int64)
        values(i, j) = int(draw(c, int(lo, int64), int(hi, int64)), int32)
      end do
    end do
  end subroutine ints32_2d

  ! ----- outputs, as doubles ---------------------------------------------------------------
  subroutine reserve(c, extra)
    type(ellora_case), intent(inout) :: c
    integer(int64), intent(in) :: extra
    real(real64), allocatable :: grown(:)
    if (c%count + extra <= size(c%outputs, kind=int64)) return
    allocate(grown(max(2 * size(c%outputs, kind=int64), c%count + extra)))
    grown(1:c%count) = c%outputs(1:c%count)
    call move_alloc(grown, c%outputs)
  end subroutine reserve

  subroutine output_real_1d(c, values)
    type(ellora_case), intent(inout) :: c
    real(real64), intent(in) :: values(:)
    call reserve(c, size(values, kind=int64))
    c%outputs(c%count + 1:c%count + size(values, kind=int64)) = values
    c%count = c%count + size(values, kind=int64)
  end subroutine output_real_1d

  subroutine output_real32_1d(c, values)
    type(ellora_case), intent(inout) :: c
    real(real32), intent(in) :: values(:)
    call output_real_1d(c, real(values, real64))
  end subroutine output_real32_1d

  subroutine output_real_2d(c, values)
    type(ellora_case), intent(inout) :: c
    real(real64), intent(in) :: values(:, :)
    call output_real_1d(c, reshape(values, [size(values)]))
  end subroutine output_real_2d

  subroutine output_int_1d(c, values)
    type(ellora_case), intent(inout) :: c
    integer(int32), intent(in) :: values(:)
    call output_real_1d(c, real(values, real64))
  end subroutine output_int_1d

  subroutine output_int64_1d(c, values)
    type(ellora_case), intent(inout) :: c
    integer(int64), intent(in) :: values(:)
    call output_real_1d(c, real(values, real64))
  end subroutine output_int64_1d

  subroutine output_int_2d(c, values)
    type(ellora_case), intent(inout) :: c
    integer(int32), intent(in) :: values(:, :)
    call output_real_1d(c, real(reshape(values, [size(values)]), real64))
  end subroutine output_int_2d

  subroutine output_real(c, value)
    type(ellora_case), intent(inout) :: c
    real(real64), intent(in) :: value
    call output_real_1d(c, [value])
  end subroutine output_real

  subroutine output_int(c, value)
    type(ellora_case), intent(inout) :: c
    integer(int32), intent(in) :: value
    call output_real_1d(c, [real(value, real64)])
  end subroutine output_int

  subroutine output_int64(c, value)
    type(ellora_case), intent(inout) :: c
    integer(int64), intent(in) :: value
    call output_real_1d(c, [real(value, real64)])
  end subroutine output_int64
end module ellora_harness
