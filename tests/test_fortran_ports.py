"""Fortran ports built and run against the serial code: the built-in suite's Fortran sources
and drivers, rewritten for OpenMP and MPI by the planner, go through the tester's
differential test in the sandbox (gfortran / mpif90, the Fortran harness module), with race
reruns at 3 and 4 threads or ranks."""

import os
import subprocess
import tomllib

import pytest
from conftest import FAST_AGENT, REPO
from ellora.tools.loops.fortran import FortranSource
from ellora.tools.loops.region import plan_region
from ellora.tools.verify import VerifySpec, build_variant, differential_test, prepare_workspace

SUITE = REPO / "evals" / "suites" / "builtin"
PROBLEMS = ["reduce_dot", "dense_la_gemm", "histogram_bins", "reduce_argmin", "scan_prefix_sum",
            "scan_running_max", "sparse_la_spmv_csr", "stencil_2d_jacobi", "graph_edge_count",
            "transform_normalize", "stencil_heat_steps", "sparse_la_spmv_coo",
            "geometry_polygon_perimeter", "graph_triangle_count"]


def port(problem: str, target: str) -> tuple[str, str, dict]:
    folder = SUITE / problem
    meta = tomllib.loads((folder / "problem.toml").read_text())
    source = (folder / "fortran.f90").read_text()
    first, last = FortranSource(source).procedure_lines(meta["function"])
    plan = plan_region(source, first, last, target, language="fortran")
    assert plan.source is not None, plan.first_refusal
    assert not plan.serial or problem == "stencil_heat_steps", plan.left_serial()
    return source, plan.source, meta


@pytest.mark.parametrize("target", ["openmp", "mpi"])
@pytest.mark.parametrize("problem", PROBLEMS)
def test_ports_pass_the_differential_test(make_services, tmp_path, problem, target):
    services = make_services(None, **FAST_AGENT)
    source, candidate, meta = port(problem, target)
    marker = "!$omp" if target == "openmp" else "use mpi_f08"
    assert marker in candidate
    if problem == "graph_triangle_count" and target == "mpi":  # j from i + 1: dealt in turn
        assert "ellora_lo + ellora_rank, ellora_lo + ellora_n - 1, ellora_size" in candidate
    (tmp_path / "kernel.f90").write_text(source)
    harness = tmp_path / "kernel.harness.f90"
    harness.write_text((SUITE / problem / "fortran.harness.f90").read_text())
    spec = VerifySpec("kernel.f90", source, candidate, str(tmp_path), str(harness))
    recipes = {"original": services.toolchain.recipe("serial"),
               "candidate": services.toolchain.recipe(target)}
    workspace = prepare_workspace(services.sandbox, spec)
    try:
        for variant in ("original", "candidate"):
            outcome = build_variant(services.sandbox, workspace, spec, variant,
                                    recipes[variant], services.limits)
            assert outcome.ok, outcome.log[-2000:]
            assert outcome.command[0].endswith(("gfortran", "mpif90", "mpifort"))
        test = differential_test(services.sandbox, workspace, spec, recipes,
                                 meta["check_sizes"], 2, meta.get("rel_tolerance", 1e-6),
                                 meta.get("abs_tolerance", 1e-9), services.limits,
                                 stress_counts=(1, 3, 4), stress_repeats=1)
    finally:
        services.sandbox.discard_workspace(workspace)
    assert test.status == "passed", [c.detail for c in test.cases if not c.passed]
    assert sum("race check" in c.detail for c in test.cases) == 3


def test_a_wrong_port_fails_the_differential_test(make_services, tmp_path):
    services = make_services(None, **FAST_AGENT)
    source, candidate, _ = port("reduce_dot", "openmp")
    wrong = candidate.replace("reduction(+:total)", "reduction(max:total)")
    assert wrong != candidate
    harness = tmp_path / "kernel.harness.f90"
    harness.write_text((SUITE / "reduce_dot" / "fortran.harness.f90").read_text())
    spec = VerifySpec("kernel.f90", source, wrong, str(tmp_path), str(harness))
    recipes = {"original": services.toolchain.recipe("serial"),
               "candidate": services.toolchain.recipe("openmp")}
    workspace = prepare_workspace(services.sandbox, spec)
    try:
        for variant in ("original", "candidate"):
            assert build_variant(services.sandbox, workspace, spec, variant, recipes[variant],
                                 services.limits).ok
        test = differential_test(services.sandbox, workspace, spec, recipes,
                                 [100003], 4, 1e-9, 1e-12, services.limits,
                                 stress_counts=(3, 4), stress_repeats=3)
    finally:
        services.sandbox.discard_workspace(workspace)
    assert test.status == "failed"


def test_whole_fortran_programs_are_compared_by_their_output(make_services, tmp_path):
    services = make_services(None, **FAST_AGENT)
    program = """program sums
  implicit none
  integer :: i
  real(8) :: x(200000), total
  do i = 1, 200000
    x(i) = 1.0d0 / i
  end do
  total = 0
  do i = 1, 200000
    total = total + x(i)
  end do
  print '(a, f12.6)', 'total ', total
end program sums
"""
    plan = plan_region(program, 5, 11, "openmp", language="fortran")
    assert [d.line for d in plan.transformed] == [5, 9]
    spec = VerifySpec("sums.f90", program, plan.source, str(tmp_path))
    assert spec.mode == "program"
    recipes = {"original": services.toolchain.recipe("serial"),
               "candidate": services.toolchain.recipe("openmp")}
    workspace = prepare_workspace(services.sandbox, spec)
    try:
        for variant in ("original", "candidate"):
            assert build_variant(services.sandbox, workspace, spec, variant, recipes[variant],
                                 services.limits).ok
        test = differential_test(services.sandbox, workspace, spec, recipes, [0], 2, 1e-6,
                                 1e-9, services.limits)
    finally:
        services.sandbox.discard_workspace(workspace)
    assert test.status == "passed" and test.method == "program output"


def test_the_fortran_harness_makes_the_inputs_the_cpp_harness_makes(tmp_path):
    harness_dir = REPO / "tools" / "harness"
    (tmp_path / "ellora_harness.F90").write_text((harness_dir / "ellora_harness.f90").read_text())
    (tmp_path / "inputs.f90").write_text("""program inputs
  use ellora_harness
  implicit none
  type(ellora_case) :: c
  real(8), allocatable :: x(:)
  integer, allocatable :: k(:)
  integer(8), allocatable :: q(:)
  call ellora_begin(c)
  allocate(x(c%size), k(c%size), q(c%size))
  call ellora_reals(c, x, -3.0d0, 5.0d0)
  call ellora_ints(c, k, -1000, 1000)
  call ellora_ints(c, q, 0_8, 2_8**40)
  do while (ellora_next(c))
  end do
  call ellora_output(c, x)
  call ellora_output(c, k)
  call ellora_output(c, q)
  call ellora_end(c)
end program inputs
""")
    (tmp_path / "inputs.cpp").write_text("""#include "ellora_harness.hpp"
int main(int argc, char** argv) {
  return ellora::run(argc, argv, [](ellora::Case& c) {
    auto x = c.random_reals<double>(c.size(), -3.0, 5.0);
    auto k = c.random_ints<int>(c.size(), -1000, 1000);
    auto q = c.random_ints<long long>(c.size(), 0, 1LL << 40);
    c.kernel([] {});
    c.output(x); c.output(k); c.output(q);
  });
}
""")
    for command in (["gfortran", "-O3", "ellora_harness.F90", "inputs.f90", "-o", "f"],
                    ["g++", "-O3", f"-I{harness_dir}", "inputs.cpp", "-o", "c"]):
        subprocess.run(command, cwd=tmp_path, check=True, capture_output=True)
    for binary in ("f", "c"):
        subprocess.run([f"./{binary}", "--size", "5000", "--seed", "77", "--mode", "check",
                        "--output", f"{binary}.bin"], cwd=tmp_path, check=True,
                       capture_output=True)
    assert (tmp_path / "f.bin").read_bytes() == (tmp_path / "c.bin").read_bytes()
    timed = subprocess.run(["./f", "--size", "10", "--mode", "time", "--repeats", "3"],
                           cwd=tmp_path, check=True, capture_output=True, text=True)
    assert timed.stdout.startswith("ellora-time:") and float(timed.stdout.split()[1]) >= 0


def test_the_check_mode_needs_an_output_path(tmp_path):
    harness_dir = REPO / "tools" / "harness"
    (tmp_path / "ellora_harness.F90").write_text((harness_dir / "ellora_harness.f90").read_text())
    (tmp_path / "p.f90").write_text("""program p
  use ellora_harness
  type(ellora_case) :: c
  call ellora_begin(c)
  call ellora_end(c)
end program p
""")
    subprocess.run(["gfortran", "ellora_harness.F90", "p.f90", "-o", "p"], cwd=tmp_path,
                   check=True, capture_output=True)
    done = subprocess.run(["./p", "--mode", "check"], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ}, check=False)
    assert done.returncode == 2 and "needs --output" in done.stderr


def test_suite_problems_with_fortran_sources_build_as_references():
    problems = sorted(p.parent.name for p in SUITE.glob("*/fortran.f90"))
    assert len(problems) >= 15
    for name in problems:
        assert (SUITE / name / "fortran.harness.f90").is_file(), name
        meta = tomllib.loads((SUITE / name / "problem.toml").read_text())
        source = (SUITE / name / "fortran.f90").read_text()
        assert FortranSource(source).procedure_lines(meta["function"]) is not None, name



TRICKY = """module tricky
  implicit none
  type grid
    real(8), allocatable :: a(:), b(:, :)
  end type grid
contains
  subroutine shapes(n, g, mask_ok, bits, k, x, y, hist, best, at, last, running, out)
    integer, intent(in) :: n
    type(grid), intent(inout) :: g
    logical, intent(inout) :: mask_ok
    integer, intent(inout) :: bits, at, last
    integer, intent(in) :: k(n)
    real(8), intent(in) :: x(n)
    real(8), intent(inout) :: y(n, n), hist(0:9), best, running, out(n)
    integer :: i, j
    do i = 1, n
      g%a(i) = 2 * g%a(i)
    end do
    do concurrent (i = 1:n, j = 1:n, y(i, j) > 0)
      y(i, j) = sqrt(y(i, j))
    end do
    do i = 1, n
      mask_ok = mask_ok .and. x(i) >= 0
      bits = ieor(bits, k(i))
    end do
    do i = 1, n
      hist(mod(abs(k(i)), 10)) = hist(mod(abs(k(i)), 10)) + x(i)
    end do
    do i = 1, n
      if (x(i) > best) then
        best = x(i)
        at = i
      end if
    end do
    do i = 1, n
      if (k(i) == 3) last = i
    end do
    do i = 1, n
      if (x(i) > 0) running = running + x(i)
      out(i) = running
    end do
    do j = 1, n
      g%b(:, j) = 0
    end do
  end subroutine shapes
end module tricky
"""


def test_every_lowering_of_the_tricky_shapes_compiles(tmp_path):
    from ellora.tools.loops.region import plan_region

    for target, compiler, flags in (("openmp", "gfortran", ["-fopenmp"]),
                                    ("mpi", "mpif90", [])):
        plan = plan_region(TRICKY, 16, 49, target, language="fortran")
        assert plan.source is not None, plan.first_refusal
        assert len(plan.transformed) == (8 if target == "openmp" else 7), plan.left_serial()
        if target == "mpi":  # do concurrent over two indices: only as nested do loops
            assert "do concurrent over several indices" in plan.left_serial()[0]
        (tmp_path / f"{target}.f90").write_text(plan.source)
        done = subprocess.run([compiler, *flags, "-fsyntax-only", f"{target}.f90"],
                              cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr[-2000:]


def test_the_modules_a_port_needs_are_used_in_its_procedure():
    from ellora.tools.loops.region import plan_region

    source = """module scans
  use iso_fortran_env, only: real64
  implicit none
contains
  subroutine prefix(n, x, out)
    use iso_fortran_env, only: int64
    implicit none
    integer, intent(in) :: n
    real(real64), intent(in) :: x(n)
    real(real64), intent(out) :: out(n)
    real(real64) :: running
    integer :: i
    running = 0
    do i = 1, n
      running = running + x(i)
      out(i) = running
    end do
  end subroutine prefix
end module scans
"""
    ported = plan_region(source, 14, 17, "openmp", language="fortran").source
    lines = [line.strip() for line in ported.splitlines()]
    assert lines.index("use omp_lib") == lines.index("use iso_fortran_env, only: int64") + 1
    assert lines.index("use omp_lib") < lines.index("implicit none", 4)
    assert ported.count("use omp_lib") == 1
    with_mpi = source.replace("  use iso_fortran_env, only: real64\n",
                              "  use iso_fortran_env, only: real64\n  use mpi_f08\n")
    ported = plan_region(with_mpi, 15, 18, "mpi", language="fortran").source
    assert ported.count("use mpi_f08") == 1 and "MPI_Allgather(" in ported
