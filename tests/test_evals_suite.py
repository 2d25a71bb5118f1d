"""The suite format, the built-in suite's shape, prompts and turning replies into code."""

from pathlib import Path

import pytest
from ellora.evals.agent_mode import body_lines
from ellora.evals.prompts import assemble_candidate, build_messages, generation_prompt
from ellora.evals.suite import BUILTIN_SUITE, Task, load_problem, load_suite, suite_tasks

TYPES = {"dense_la", "sparse_la", "reduce", "scan", "histogram", "stencil", "search", "sort",
         "graph", "transform", "fft", "geometry"}


@pytest.fixture(scope="module")
def builtin():
    return load_suite(BUILTIN_SUITE)


def test_builtin_suite_covers_the_hpc_problem_types(builtin):
    assert len(builtin) >= 30
    assert {p.type for p in builtin} == TYPES
    for problem in builtin:
        assert set(problem.models) >= {"serial", "openmp", "mpi", "mpi+openmp", "kokkos", "cuda"}
        prompt = generation_prompt(problem, "openmp")
        assert prompt.endswith("{") and problem.function in prompt.split("*/")[-1]
        first, last = body_lines(problem.source(), problem.function)
        assert first <= last


def test_tasks_translate_from_every_shipped_source_but_never_to_serial(builtin):
    tasks = suite_tasks(builtin, ["serial", "openmp", "kokkos"], ["generation", "translation"])
    ids = {t.id for t in tasks}
    assert "reduce_sum/generation/serial" in ids
    assert "reduce_sum/translation/serial-openmp" in ids
    assert not any(t.kind == "translation" and t.target == "serial" for t in tasks)
    assert any(t.source == "openmp" and t.target == "kokkos" for t in tasks)


def test_a_problem_folder_needs_its_files(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "problem.toml").write_text('type = "reduce"\nfunction = "f"\n'
                                                 'description = "d"\n')
    with pytest.raises(ValueError, match="serial.cpp is missing"):
        load_problem(tmp_path / "p")
    with pytest.raises(ValueError, match="no problems"):
        load_suite(tmp_path / "p")


def _sum_problem(builtin):
    return next(p for p in builtin if p.name == "reduce_sum")


def test_generation_reply_with_a_body_or_a_whole_function(builtin):
    problem = _sum_problem(builtin)
    task = Task(problem.name, "generation", "openmp")
    body = "```cpp\n  double t = 0;\n  #pragma omp parallel for reduction(+:t)\n" \
           "  for (std::size_t i = 0; i < n; ++i) t += x[i];\n  return t;\n```"
    code = assemble_candidate(problem, task, body)
    assert code.count("double sum(") == 1 and code.rstrip().endswith("}")
    whole = "```cpp\ndouble sum(std::size_t n, const double* x) {\n  return 0;\n}\n```"
    code = assemble_candidate(problem, task, whole)
    assert code.count("double sum(") == 1 and "#include <omp.h>" in code
    assert assemble_candidate(problem, Task(problem.name, "translation", "openmp", "serial"),
                              "no code here") is None


def test_translation_prompt_shows_the_source(builtin):
    problem = _sum_problem(builtin)
    messages = build_messages(problem, Task(problem.name, "translation", "kokkos", "serial"))
    assert "total += x[i]" in messages[-1].content and "Kokkos" in messages[-1].content


def test_pareval_fixture_loads_in_its_layout():
    from ellora.evals.pareval import load_pareval, patch_no_inline

    problems = load_pareval(Path(__file__).parent / "fixtures" / "pareval_mini")
    assert [p.name for p in problems] == ["00_reduce_total"]
    problem = problems[0]
    assert problem.models == ["serial", "openmp"] and problem.function == "total"
    tasks = suite_tasks(problems, ["openmp", "kokkos"], ["translation"])
    assert [t.id for t in tasks] == ["00_reduce_total/translation/serial-openmp"]
    prompt = problem.extra["prompts"]["openmp"]
    patched = patch_no_inline(prompt + "\n return 0;\n}", prompt)
    assert "double NO_INLINE total(" in patched


def test_slurm_config_builds_a_parsl_htex_on_slurm(tmp_path):
    from ellora.agents.settings import load_settings
    from ellora.evals.parallel import parsl_config

    settings = load_settings({"evals": {"parsl": {"executor": "slurm", "workers": 8, "slurm": {
        "partition": "cpu", "account": "hpc", "max_blocks": 3,
        "worker_init": "source venv/bin/activate"}}}})
    config = parsl_config(settings.evals.parsl, tmp_path)
    [executor] = config.executors
    provider = executor.provider
    assert type(provider).__name__ == "SlurmProvider"
    assert (provider.partition, provider.account, provider.max_blocks) == ("cpu", "hpc", 3)
    assert executor.max_workers_per_node == 8 and type(provider.launcher).__name__ == "SrunLauncher"


def test_model_generator_sends_batches_and_streams_results(builtin):
    from ellora.evals.generation import ModelGenerator, SampleRequest
    from ellora.models.scripted import ScriptedModel

    problem = _sum_problem(builtin)
    reply = "```cpp\ndouble sum(std::size_t n, const double* x) {\n  return 0;\n}\n```"
    model = ScriptedModel(replies=[reply] * 6)
    tasks = [Task(problem.name, "translation", t, "serial") for t in ("openmp", "kokkos", "mpi")]
    requests = [SampleRequest(f"{t.id}#{i}", problem, t, i) for t in tasks for i in range(2)]
    rows = []
    ModelGenerator(lambda: model, 0.8, 100, 256, batch_size=4).generate(requests, rows.append)
    assert sorted(r["key"] for r in rows) == sorted(r.key for r in requests)
    assert all("double sum(" in r["code"] and r["output_tokens"] > 0 for r in rows)
    assert sorted(o["seed"] for o in model.call_options) == [100, 100, 100, 101, 101, 101]
    assert {o["max_tokens"] for o in model.call_options} == {256}


def test_an_agent_sample_is_what_the_user_keeps_after_apply():
    """Only a verified port is written by ``ellora-agent --apply``: every other verdict
    leaves the user's original, so that is what the sample submits; a crash submits nothing."""
    from ellora.evals.agent_mode import submitted_code

    assert submitted_code("verified", "port", "orig") == "port"
    for status in ("unverified", "not_faster", "refused", "failed"):
        assert submitted_code(status, "port", "orig") == "orig"
    assert submitted_code(None, None, "orig") is None
