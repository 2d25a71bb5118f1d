"""The agent on Fortran files (planner -> coder -> tester -> profiler with gfortran/mpif90 and
the Fortran harness), and the built-in suite's Fortran tasks in eval runs."""

import shutil

from conftest import EXAMPLES, FAST_AGENT
from ellora.agents.runner import infer_target_model, new_task_id, run_task
from ellora.agents.settings import load_settings
from ellora.evals.runner import RunSpec, run_eval, select_tasks
from ellora.evals.store import RunStore
from ellora.evals.suite import BUILTIN_SUITE, load_suite
from ellora.models.scripted import ScriptedModel


def agent(services, task, source, first, last):
    harness = source.with_name(source.stem + ".harness.f90")
    state = {"task_id": new_task_id(), "task": task, "target_model": infer_target_model(task),
             "file": str(source), "first_line": first, "last_line": last,
             "original": source.read_text(), "status": "running", "steps": [],
             "harness": str(harness) if harness.is_file() else None}
    return run_task(state, services, services.settings.state_dir / "checkpoints.sqlite")


def candidate_of(services, report):
    from ellora.agents.runner import saved_state

    return saved_state(report["task_id"], services,
                       services.settings.state_dir / "checkpoints.sqlite")["candidate"]


def test_the_agent_ports_a_fortran_reduction_to_openmp(make_services, tmp_path):
    for name in ("dot.f90", "dot.harness.f90"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    services = make_services(None, **FAST_AGENT)
    report = agent(services, "parallelize this loop with OpenMP", tmp_path / "dot.f90", 12, 14)
    assert report["status"] == "verified", report["status_reason"]
    assert report["change_origin"] == "transformation"
    assert report["test"]["status"] == "passed" and "race check" in report["test"]["method"]
    assert report["build"]["candidate"]["command"][0].endswith("gfortran")
    candidate = candidate_of(services, report)
    assert "!$omp parallel do schedule(static) reduction(+:total)" in candidate
    assert report["speedups"] and set(report["speedups"]) == {"1", "2"}


def test_the_agent_ports_a_fortran_csr_product_to_mpi(make_services, tmp_path):
    for name in ("spmv.f90", "spmv.harness.f90"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    services = make_services(None, **FAST_AGENT)
    report = agent(services, "parallelize this loop with MPI", tmp_path / "spmv.f90", 13, 19)
    assert report["status"] == "verified", report["status_reason"]
    candidate = candidate_of(services, report)
    assert "use mpi_f08" in candidate and "MPI_Allgatherv" in candidate
    assert report["build"]["candidate"]["command"][0].endswith(("mpif90", "mpifort"))


def test_a_refused_fortran_loop_says_why(make_services, tmp_path):
    source = tmp_path / "recurrence.f90"
    source.write_text("""subroutine smooth(n, x)
  implicit none
  integer, intent(in) :: n
  real(8), intent(inout) :: x(n)
  integer :: i
  do i = 2, n
    x(i) = 0.5d0 * (x(i) + x(i - 1))
  end do
end subroutine smooth
""")
    services = make_services(None, **FAST_AGENT)
    report = agent(services, "parallelize this loop with OpenMP", source, 6, 8)
    assert report["status"] == "refused"
    assert "loop-carried dependence on x" in report["status_reason"]


def test_suite_tasks_from_fortran_only_when_named():
    problems = load_suite(BUILTIN_SUITE)
    default = select_tasks(RunSpec("builtin", "reference", kinds=["translation"],
                                   models=["openmp", "mpi"]), problems)
    assert not any(t.source == "fortran" for t in default)
    fortran = select_tasks(RunSpec("builtin", "reference", agent=True, kinds=["translation"],
                                   models=["openmp", "mpi", "kokkos"], sources=["fortran"]),
                           problems)
    assert len({t.problem for t in fortran}) >= 15
    assert {t.target for t in fortran} == {"openmp", "mpi"}
    assert all(t.id.endswith(("fortran-openmp", "fortran-mpi")) for t in fortran)


FAST_EVAL = {"evals": {"timing_repeats": 1, "timing_rounds": 1, "race_check": ["3"],
                       "threads": [1, 2], "ranks": [1, 2], "run_wall_s": 30,
                       "parsl": {"workers": 2}}}


def test_fortran_samples_are_built_validated_and_timed(tmp_path):
    good = """```fortran
module reduce_sum_kernel
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains
  function sum(n, x) result(total)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp) :: total
    integer :: i
    total = 0.0_dp
    !$omp parallel do reduction(+:total)
    do i = 1, n
      total = total + x(i)
    end do
  end function sum
end module reduce_sum_kernel
```"""
    settings = load_settings(FAST_EVAL)
    spec = RunSpec(suite="builtin", model="reference", kinds=["translation"],
                   models=["openmp", "mpi"], problems=["reduce_sum"], sources=["fortran"])
    run_dir = run_eval(spec, settings, load_suite(BUILTIN_SUITE), "builtin", tmp_path,
                       quiet=True)
    found = {r["task"]: r for r in RunStore(run_dir).records()}
    assert set(found) == {"reduce_sum/translation/fortran-openmp",
                          "reduce_sum/translation/fortran-mpi"}
    for record in found.values():
        assert record["status"] == "passed", record
        assert record["language"] == "fortran" and record["baseline_s"] > 0
        assert "gfortran" in record["build"]["command"][0] or \
            "mpif" in record["build"]["command"][0]
        assert not record["uses_model"]  # the serial source handed back
    model = ScriptedModel(replies=[good])
    spec = RunSpec(suite="builtin", model="openai-compatible", kinds=["translation"],
                   models=["openmp"], problems=["reduce_sum"], sources=["fortran"])
    run_dir = run_eval(spec, settings, load_suite(BUILTIN_SUITE), "builtin", tmp_path,
                       model_factory=lambda: model, quiet=True)
    (record,) = RunStore(run_dir).records()
    assert record["status"] == "passed" and record["uses_model"], record
