"""Graph logic with the scripted model, and real builds, tests and timings in the sandbox."""

from pathlib import Path

import pytest
from conftest import EXAMPLES, FAST_AGENT
from ellora.agents.runner import infer_target_model, new_task_id, resume_task, run_task
from ellora.models.scripted import ScriptedModel

SAXPY = (EXAMPLES / "saxpy.cpp").read_text()
GOOD_OPENMP = """```cpp
  #pragma omp parallel for
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = a * x[i] + y[i];
  }
```"""
BROKEN_OPENMP = """```cpp
  #pragma omp parallel for
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = a * x[i] + y[i]
  }
```"""
WRONG_OPENMP = """```cpp
  #pragma omp parallel for
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = a * x[i] - y[i];
  }
```"""


def task_state(task, source_path: Path, first, last, harness=True):
    return {
        "task_id": new_task_id(),
        "task": task,
        "target_model": infer_target_model(task),
        "file": str(source_path),
        "first_line": first,
        "last_line": last,
        "original": source_path.read_text(),
        "status": "running",
        "steps": [],
        "harness": str(source_path.with_name(source_path.stem + ".harness.cpp"))
        if harness
        else None,
    }


def run(services, state):
    return run_task(state, services, services.settings.state_dir / "checkpoints.sqlite")


def model_only(**extra):
    return {"agent": {**FAST_AGENT["agent"], "prefer_transformations": False, **extra}}


def test_compile_error_goes_back_to_the_coder_with_the_diagnostics(make_services):
    model = ScriptedModel(replies=[BROKEN_OPENMP, GOOD_OPENMP])
    services = make_services(model, **model_only())
    report = run(services, task_state("parallelize with OpenMP", EXAMPLES / "saxpy.cpp", 5, 7))
    assert report["status"] == "verified", report["status_reason"]
    assert report["attempts"] == 2
    second_prompt = model.calls[1][-1].content
    assert "compiler errors" in second_prompt and "saxpy.cpp:" in second_prompt
    assert "#pragma omp parallel for" in report["diff"]
    assert set(report["speedups"]) == {"1", "2"}
    assert report["model"]["output_tokens"] > 0


def test_wrong_results_are_caught_by_the_differential_test(make_services):
    model = ScriptedModel(replies=[WRONG_OPENMP, WRONG_OPENMP])
    services = make_services(model, **model_only(max_fix_attempts=1))
    report = run(services, task_state("parallelize with OpenMP", EXAMPLES / "saxpy.cpp", 5, 7))
    assert report["status"] == "failed"
    assert report["diff"] == ""
    assert "different results" in model.calls[1][-1].content
    assert report["test"]["status"] == "failed"


def test_unchanged_code_is_not_accepted_as_a_port(make_services):
    unchanged = "```cpp\n" + "".join(SAXPY.splitlines(keepends=True)[4:7]) + "```"
    model = ScriptedModel(replies=[unchanged, "no code at all"])
    services = make_services(model, **model_only(max_fix_attempts=1))
    report = run(services, task_state("parallelize with OpenMP", EXAMPLES / "saxpy.cpp", 5, 7))
    assert report["status"] == "failed"
    assert "unchanged" in report["steps"][1]["summary"]
    assert "no usable code" in report["steps"][2]["summary"]


@pytest.mark.parametrize("task", ["parallelize this loop with OpenMP", "port this loop to Kokkos"])
def test_transformation_path_needs_no_model(make_services, task):
    services = make_services(None, **FAST_AGENT)
    report = run(services, task_state(task, EXAMPLES / "dot.cpp", 6, 8))
    assert report["status"] == "verified", report["status_reason"]
    assert report["change_origin"] == "transformation"
    marker = "reduction(+:sum)" if "OpenMP" in task else "Kokkos::parallel_reduce"
    assert marker in report["diff"]
    cases = report["test"]["cases"]
    assert report["test"]["status"] == "passed" and len(cases) == 4 * 3 + 2 * 2  # draws
    assert "race check at 4 threads" in cases[-1]["detail"]


def test_loop_with_a_dependence_is_refused(make_services, tmp_path):
    source = tmp_path / "scan.cpp"
    source.write_text(
        "void scan(int n, double* a) {\n  for (int i = 1; i < n; ++i) {\n"
        "    a[i] = a[i - 1] + a[i];\n  }\n}\n"
    )
    services = make_services(None, **FAST_AGENT)
    report = run(services, task_state("parallelize with OpenMP", source, 2, 4, harness=False))
    assert report["status"] == "refused"
    assert "loop-carried dependence on a" in report["status_reason"]
    assert report["diff"] == "" and report["build"] == {}


def test_without_harness_or_main_correctness_is_not_established(make_services, tmp_path):
    """No harness, no main(), and none can be synthesized (w[i * i] has no bound the range
    rules can prove): the change stays unverified, with the reason."""
    source = tmp_path / "scale.cpp"
    source.write_text(
        "void scale(int n, double* y, const double* w) {\n  for (int i = 0; i < n; ++i) {\n"
        "    y[i] *= w[i * i];\n  }\n}\n"
    )
    services = make_services(None, **FAST_AGENT)
    report = run(services, task_state("parallelize with OpenMP", source, 2, 4, harness=False))
    assert report["status"] == "unverified"
    assert "not compared" in report["status_reason"]
    assert "none could be synthesized" in report["status_reason"]
    assert report["speedups"] == {}


def test_whole_program_output_is_compared(make_services, tmp_path):
    source = tmp_path / "program.cpp"
    source.write_text(
        "#include <cstdio>\n#include <vector>\nint main() {\n  std::vector<double> v(1000);\n"
        "  double s = 0;\n  for (int i = 0; i < 1000; ++i) {\n    s += 0.5 * i;\n  }\n"
        '  std::printf("sum %.6f\\n", s);\n  return 0;\n}\n'
    )
    services = make_services(None, **FAST_AGENT)
    report = run(services, task_state("port to Kokkos", source, 6, 8, harness=False))
    assert report["status"] == "verified", report["status_reason"]
    assert report["test"]["method"] == "program output"
    assert "Kokkos::ScopeGuard" in report["diff"]


def test_a_finished_task_resumes_to_its_report(make_services):
    services = make_services(None, **FAST_AGENT)
    state = task_state("parallelize with OpenMP", EXAMPLES / "saxpy.cpp", 5, 7)
    first = run(services, state)
    again = resume_task(
        state["task_id"], services, services.settings.state_dir / "checkpoints.sqlite"
    )
    assert again == first


RACY_DOT = """```cpp
  #pragma omp parallel for
  for (std::size_t i = 0; i < n; ++i) {
    sum += x[i] * y[i];
  }
```"""


def test_a_data_race_is_caught_not_certified(make_services):
    model = ScriptedModel(replies=[RACY_DOT])
    agent = {
        **model_only(max_fix_attempts=0)["agent"],
        "test_sizes": [0, 1, 7, 400003],
        "allow_unproven": True,
    }
    services = make_services(model, agent=agent)
    report = run(services, task_state("parallelize with OpenMP", EXAMPLES / "dot.cpp", 6, 8))
    assert report["status"] == "failed"
    assert report["test"]["status"] == "failed"
    assert "without reduction(+:sum)" in report["test"]["cases"][0]["detail"]
    assert report["diff"] == ""


@pytest.mark.parametrize(
    "source, lines, marker",
    [
        ("dot.cpp", (6, 8), "MPI_Allreduce(MPI_IN_PLACE, &ellora_value"),
        ("saxpy.cpp", (5, 7), "MPI_Allgatherv(MPI_IN_PLACE"),
    ],
)
def test_mpi_block_decomposition_is_verified_over_ranks(make_services, source, lines, marker):
    services = make_services(None, **FAST_AGENT)
    report = run(services, task_state("distribute this loop with MPI", EXAMPLES / source, *lines))
    assert report["status"] == "verified", report["status_reason"]
    assert marker in report["diff"] and "#include <mpi.h>" in report["diff"]
    assert report["build"]["candidate"]["command"][0].endswith("mpicxx")
    assert "race check at 4 threads/ranks" in report["test"]["cases"][-1]["detail"]


def test_a_temporary_read_after_the_loop_keeps_its_last_value(make_services, tmp_path):
    """Assigned first in every iteration and read after the loop: OpenMP's lastprivate gives
    the last iteration's value, as the serial loop does. Assigned only in some iterations,
    its last value depends on the order: refused."""
    source = tmp_path / "last.cpp"
    source.write_text(
        "double last(int n, const double* x, double* y) {\n  double t = 0;\n"
        "  for (int i = 0; i < n; ++i) {\n    t = 2 * x[i];\n    y[i] = t;\n"
        "  }\n  return t;\n}\n"
    )
    services = make_services(None, **FAST_AGENT)
    report = run(services, task_state("parallelize with OpenMP", source, 3, 6, harness=False))
    assert report["status"] in ("verified", "unverified"), report["status_reason"]
    assert "lastprivate(t)" in report["diff"]
    source.write_text(
        "double last(int n, const double* x, double* y) {\n  double t = 0;\n"
        "  for (int i = 0; i < n; ++i) {\n    if (x[i] > 0) t = x[i];\n    y[i] = t;\n"
        "  }\n  return t;\n}\n"
    )
    report = run(services, task_state("parallelize with OpenMP", source, 3, 6, harness=False))
    assert report["status"] == "refused"
    assert "the scalar t carries a value" in report["status_reason"]


def test_search_replace_edits_apply_or_go_back_to_the_model(make_services):
    bad = "<<<<<<< SEARCH\n  for (int k = 0; k < m; ++k) {\n=======\n  oops\n>>>>>>> REPLACE"
    good = (
        "<<<<<<< SEARCH\n  for (std::size_t i = 0; i < n; ++i) {\n=======\n"
        "  #pragma omp parallel for\n  for (std::size_t i = 0; i < n; ++i) {\n>>>>>>> REPLACE"
    )
    model = ScriptedModel(replies=[bad, good])
    services = make_services(model, **model_only())
    report = run(services, task_state("parallelize with OpenMP", EXAMPLES / "saxpy.cpp", 5, 7))
    assert report["status"] == "verified", report["status_reason"]
    assert "did not apply" in model.calls[1][-1].content
    assert "+  #pragma omp parallel for" in report["diff"]


def test_the_users_own_test_command_decides_without_a_harness(make_services, tmp_path):
    """The loop bound is a global the program sets: no harness can be synthesized, so the
    user's own test command decides."""
    source = tmp_path / "scale.cpp"
    source.write_text(
        "extern int n;\nvoid scale(double* y) {\n  for (int i = 0; i < n; ++i) {\n"
        "    y[i] = 2.0 * y[i];\n  }\n}\n"
    )
    (tmp_path / "check.cpp").write_text(
        "#include <cstdio>\nint n = 100;\nvoid scale(double* y);\nint main() { double y[100];\n"
        " for (int i = 0; i < 100; ++i) y[i] = i;\n scale(y);\n"
        ' for (int i = 0; i < 100; ++i) if (y[i] != 2.0 * i) { std::puts("wrong"); return 1; }\n'
        ' std::puts("ok"); }\n'
    )
    wrong = "```cpp\n  #pragma omp parallel for\n  for (int i = 0; i < n; ++i) {\n    y[i] = 3.0 * y[i];\n  }\n```"
    right = wrong.replace("3.0", "2.0")
    model = ScriptedModel(replies=[wrong, right])
    agent = {
        **model_only()["agent"],
        "test_command": "g++ -fopenmp scale.cpp check.cpp -o t && ./t",
    }
    services = make_services(model, agent=agent)
    report = run(services, task_state("parallelize with OpenMP", source, 3, 5, harness=False))
    assert report["status"] == "verified", report["status_reason"]
    assert "your test command passed" in report["status_reason"]
    assert (
        "project's tests fail" in model.calls[1][-1].content
        and "wrong" in model.calls[1][-1].content
    )


@pytest.mark.parametrize(
    "task, target",
    [
        ("port this OpenMP loop to Kokkos", "kokkos"),
        ("parallelize this loop with OpenMP", "openmp"),
        ("make this MPI reduction faster", "mpi"),
        ("speed this up", "openmp"),
    ],
)
def test_the_target_is_what_the_task_asks_for(task, target):
    assert infer_target_model(task) == target


def test_an_openmp_loop_is_ported_to_kokkos_and_not_parallelized_twice(make_services, tmp_path):
    source = tmp_path / "dot.cpp"
    text = (
        (EXAMPLES / "dot.cpp")
        .read_text()
        .replace(
            "  for (std::size_t i",
            "  #pragma omp parallel for reduction(+:sum)\n  for (std::size_t i",
        )
    )
    source.write_text(text)
    (tmp_path / "dot.harness.cpp").write_text((EXAMPLES / "dot.harness.cpp").read_text())
    services = make_services(None, **FAST_AGENT)
    again = run(services, task_state("parallelize with OpenMP", source, 6, 9))
    assert again["status"] == "refused" and "already parallelized" in again["status_reason"]
    ported = run(services, task_state("port this OpenMP loop to Kokkos", source, 6, 9))
    assert ported["status"] == "verified", ported["status_reason"]
    assert "-  #pragma omp parallel for" in ported["diff"] and "parallel_reduce" in ported["diff"]


def test_a_prompt_too_long_for_the_model_is_trimmed_and_says_so(make_services):
    from ellora.models import ContextOverflow

    overflow = ContextOverflow.from_counts(9000, 768, 8192)
    model = ScriptedModel(replies=[overflow, GOOD_OPENMP])
    services = make_services(model, **model_only())
    state = task_state("parallelize with OpenMP", EXAMPLES / "saxpy.cpp", 5, 7)
    state["sources"] = [{"repository": "kokkos", "path": "core/src/Kokkos_Parallel.hpp",
                         "lines": [1, 9], "text": "parallel_for(...)"}]
    report = run(services, state)
    assert report["status"] == "verified", report["status_reason"]
    assert "Examples from E4S libraries" in model.calls[0][-1].content
    assert "Examples from E4S libraries" not in model.calls[1][-1].content
    assert "trimmed to fit the context window" in report["steps"][1]["summary"]


def test_the_coder_prompt_names_the_file_not_where_it_lives(tmp_path):
    """The same code under two folders is the same prompt (and, seeded, the same reply)."""
    from ellora.agents.coder import build_messages

    prompts = []
    for folder in ("run-a", "elsewhere/run-b"):
        copy = tmp_path / folder / "saxpy.cpp"
        copy.parent.mkdir(parents=True)
        copy.write_text((EXAMPLES / "saxpy.cpp").read_text())
        state = task_state("parallelize with OpenMP", copy, 5, 7, harness=False)
        prompts.append([m.content for m in build_messages(state)])
    assert prompts[0] == prompts[1]
    assert "File saxpy.cpp, lines 5-7" in prompts[0][-1]
    assert str(tmp_path) not in prompts[0][-1]


def test_a_port_that_is_not_faster_is_not_offered(make_services):
    """The offer needs a speedup above agent.min_speedup at the largest thread count; an
    impossible threshold makes any port 'not faster' whatever the machine's load."""
    services = make_services(None, agent={**FAST_AGENT["agent"], "min_speedup": 1000.0})
    report = run(services, task_state("parallelize this loop with OpenMP",
                                      EXAMPLES / "dot.cpp", 6, 8))
    assert report["status"] == "not_faster", report["status_reason"]
    assert "the original is kept" in report["status_reason"]
    assert report["test"]["status"] == "passed" and set(report["speedups"]) == {"1", "2"}
    assert "reduction(+:sum)" in report["diff"]  # what was tried stays visible
    assert "MPI_Allgatherv" not in report["status_reason"]


def test_an_mpi_map_that_is_not_faster_says_why(make_services):
    """A streaming map under MPI gathers what each rank wrote: the reason names the gather
    and where MPI does pay off."""
    services = make_services(None, agent={**FAST_AGENT["agent"], "min_speedup": 1000.0})
    report = run(services, task_state("parallelize this loop with MPI",
                                      EXAMPLES / "saxpy.cpp", 5, 7))
    assert report["status"] == "not_faster", report["status_reason"]
    assert "MPI_Allgatherv" in report["status_reason"]
    assert "distributed across steps" in report["status_reason"]


def test_the_graph_declares_its_fixed_edges():
    from ellora.agents.graph import build_graph
    from ellora.agents.services import services_from_settings
    from ellora.agents.settings import load_settings

    graph = build_graph(services_from_settings(load_settings({}))).get_graph()
    edges = {(e.source, e.target) for e in graph.edges}
    assert edges == {("__start__", "planner"), ("planner", "coder"), ("planner", "report"),
                     ("coder", "tester"), ("coder", "coder"), ("coder", "report"),
                     ("tester", "optimizer"), ("tester", "coder"), ("tester", "report"),
                     ("optimizer", "profiler"), ("profiler", "report"), ("report", "__end__")}
