"""Helpers the loop-engine tests share: the typed verdict of a loop, a loop's rewrite for one
target, run-time check programs, and builds that run real g++/OpenMP, Kokkos and MPI code
(or the whole agent graph on a suite problem)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import REPO

SUITE = REPO / "evals" / "suites" / "builtin"


# ----- the engine -----------------------------------------------------------------------
def loop_nodes(source: str, first: int = 1, last: int = 10_000):
    """(parsed source, outermost loops starting in lines first..last)."""
    from ellora.tools.loops.cpp import CppSource

    parsed = CppSource(source)
    return parsed, parsed.loops_in_lines(first, last)


def verdict_of(source: str, position: int = 0):
    """(verdict, model) of the ``position``-th outermost loop of ``source``."""
    from ellora.tools.loops.legality import decide

    parsed, loops = loop_nodes(source)
    model = parsed.loop_model(loops[position])
    return decide(model), model


def loop_over(parsed, variable: str):
    """The ``for`` statement whose header declares or sets ``variable``."""
    from ellora.tools.loops.cpp.scope import walk

    for node in walk(parsed.tree.root_node):
        if node.type == "for_statement":
            initializer = node.child_by_field_name("initializer")
            declared = initializer.text.decode().replace("=", " ").split()
            if variable in declared:
                return node
    raise AssertionError(f"no loop over {variable}")


def verdict_over(source: str, variable: str):
    """(verdict, model) of the loop over ``variable`` (an inner loop too)."""
    from ellora.tools.loops.cpp import CppSource
    from ellora.tools.loops.legality import decide

    parsed = CppSource(source)
    model = parsed.loop_model(loop_over(parsed, variable))
    return decide(model), model


def refusal(verdict) -> tuple[str, str]:
    """(kind, subject) of a refused verdict's dependence."""
    assert not verdict.parallel, verdict.facts
    return verdict.dependence.kind, verdict.dependence.subject


def rewrite_loop(verdict, target: str) -> str:
    """The loop's source with this one verdict emitted for ``target``."""
    from ellora.tools.loops.emit import apply_emissions, emit

    return apply_emissions(verdict.loop.function.source, [emit(verdict, target)], target)


def region_source(source: str, first: int, last: int, target: str) -> str:
    """The region's rewritten source (asserting something was transformed)."""
    from ellora.tools.loops.region import plan_region

    plan = plan_region(source, first, last, target)
    assert plan.source is not None, plan.left_serial() or plan.first_refusal
    return plan.source


def guard_check_program(source: str, signature: str, main: str, position: int = 0) -> str:
    """A program whose ``bool check(signature)`` returns the run-time check the engine puts
    before the ``position``-th loop of ``source`` (object and range checks), then ``main``."""
    from ellora.tools.loops.emit.checks import APART_HELPER, guard_declaration
    from ellora.tools.loops.emit.common import LoopText

    verdict, _ = verdict_of(source, position)
    assert verdict.parallel and verdict.versioned, (verdict.dependence, verdict.facts)
    text = LoopText(verdict)
    return (
        "#include <algorithm>\n#include <climits>\n#include <cstdint>\n#include <cstdio>\n"
        "#include <initializer_list>\n#include <limits>\n#include <type_traits>\n"
        "#include <vector>\n"
        + APART_HELPER + f"bool check({signature}) {{\n  " + guard_declaration(text)
        + f"  return {text.guard};\n}}\n" + main
    )


# ----- builds ---------------------------------------------------------------------------
def _run(command: list[str], env: dict | None = None) -> str:
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=env)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build(tmp_path: Path, program: str, name: str = "main") -> Path:
    """``program`` compiled with g++ -O2 -fopenmp; the binary's path."""
    source = tmp_path / f"{name}.cpp"
    source.write_text(program)
    binary = tmp_path / name
    # ELLORA_MIN_PARALLEL_TRIP=0: small test arrays run on the threads too
    _run(["g++", "-std=c++17", "-O2", "-fopenmp", "-DELLORA_MIN_PARALLEL_TRIP=0", "-o",
          str(binary), str(source)])
    return binary


def run_on_threads(binary: Path, threads: int) -> str:
    return _run([str(binary)], env={"OMP_NUM_THREADS": str(threads), "PATH": "/usr/bin:/bin"})


def build_and_run(tmp_path: Path, program: str, threads: int = 4) -> str:
    """Compile ``program`` with g++ -O2 -fopenmp and run it on ``threads`` threads."""
    return run_on_threads(build(tmp_path, program), threads)


def build_kokkos(tmp_path: Path, program: str) -> Path:
    """``program`` compiled against the Kokkos the installer built; the binary's path."""
    from ellora.tools.toolchain import default_kokkos_prefixes, find_kokkos

    kokkos = find_kokkos(default_kokkos_prefixes())
    assert kokkos is not None, "Kokkos is missing: run bash .ci/install"
    source = tmp_path / "main.cpp"
    source.write_text(program)
    binary = tmp_path / "main"
    _run(["g++", "-std=c++17", "-O2", "-fopenmp", "-DELLORA_MIN_PARALLEL_TRIP=0",
          f"-I{kokkos.include_dir}", "-o", str(binary),
          str(source), f"-L{kokkos.lib_dir}", f"-Wl,-rpath,{kokkos.lib_dir}",
          f"-l{kokkos.core_library}", "-ldl"])
    return binary


def build_and_run_kokkos(tmp_path: Path, program: str, threads: int = 2) -> str:
    """Compile ``program`` against Kokkos and run it on ``threads`` host threads."""
    return run_on_threads(build_kokkos(tmp_path, program), threads)


def build_mpi(tmp_path: Path, program: str) -> Path:
    """``program`` compiled with mpicxx; the binary's path."""
    source = tmp_path / "main.cpp"
    source.write_text(program)
    binary = tmp_path / "main"
    _run(["mpicxx", "-std=c++17", "-O2", "-o", str(binary), str(source)])
    return binary


def run_on_ranks(binary: Path, ranks: int) -> str:
    """The output of ``binary`` run by mpirun on ``ranks`` ranks (every rank's)."""
    launcher = ["mpirun", "--oversubscribe", "-np", str(ranks)]
    if os.geteuid() == 0:
        launcher.append("--allow-run-as-root")
    env = {**os.environ, "OMPI_MCA_btl": "self,vader", "OMP_NUM_THREADS": "1"}
    return _run([*launcher, str(binary)], env=env)


# ----- the agent on a suite problem -------------------------------------------------------
def copy_suite_problem(tmp_path: Path, problem: str) -> tuple[Path, Path, dict]:
    """serial.cpp and its harness copied into tmp_path, and the problem's metadata."""
    import tomllib

    folder = SUITE / problem
    source, harness = tmp_path / "serial.cpp", tmp_path / "serial.harness.cpp"
    source.write_text((folder / "serial.cpp").read_text())
    harness.write_text((folder / "serial.harness.cpp").read_text())
    return source, harness, tomllib.loads((folder / "problem.toml").read_text())


def run_agent(services, task: str, source: Path, harness: Path, first: int, last: int) -> dict:
    """The whole graph on lines first..last of source, as ellora-agent runs it."""
    from ellora.agents.runner import infer_target_model, new_task_id, run_task

    state = {
        "task_id": new_task_id(), "task": task, "target_model": infer_target_model(task),
        "file": str(source), "first_line": first, "last_line": last,
        "original": source.read_text(), "status": "running", "steps": [],
        "harness": str(harness),
    }
    return run_task(state, services, services.settings.state_dir / "checkpoints.sqlite")


# ----- serial-vs-parallel check programs ---------------------------------------------------
_INIT = {"openmp": "", "kokkos": "Kokkos::ScopeGuard guard(argc, argv);",
         "mpi": "MPI_Init(&argc, &argv); int rank = 0; MPI_Comm_rank(MPI_COMM_WORLD, &rank);"}
_REPORT = {"openmp": 'std::printf("%d\\n", same);', "kokkos": 'std::printf("%d\\n", same);',
           "mpi": "MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);\n"
                  '  if (rank == 0) std::printf("%d\\n", same);\n  MPI_Finalize();'}


def serial_twins(source: str, names: tuple[str, ...], after: str) -> str:
    """The functions of ``source`` after the line ``after``, each renamed ``serial_<name>``
    (the serial reference a check program compares the port with)."""
    body = source.split(after)[1]
    for name in names:
        body = body.replace(f" {name}(", f" serial_{name}(")
    return body


def check_program(parallel: str, serial: str, check: str, target: str) -> str:
    """``parallel + serial + check`` with the check's INIT and REPORT lines for ``target``
    (the MPI form agrees on ``same`` across ranks and prints it once)."""
    return (parallel + serial + check).replace("INIT", _INIT[target]).replace(
        "REPORT", _REPORT[target])


def agrees_on(tmp_path: Path, program: str, target: str,
              counts: tuple[int, ...] = (1, 2, 4)) -> None:
    """Build a check program for ``target`` and assert it prints 1 at every thread count
    (MPI: at 1-3 ranks)."""
    if target == "mpi":
        binary = build_mpi(tmp_path, program)
        for ranks in (1, 2, 3):
            assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"
        return
    binary = (build if target == "openmp" else build_kokkos)(tmp_path, program)
    for threads in counts:
        assert run_on_threads(binary, threads).split()[-1] == "1", f"{threads} threads"
