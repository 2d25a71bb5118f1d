"""Batch runs with real compilers in the sandbox: records, resumption, bad samples."""

from ellora.agents.settings import load_settings
from ellora.evals.runner import RunSpec, run_eval
from ellora.evals.store import RunStore
from ellora.evals.suite import BUILTIN_SUITE, load_suite
from ellora.models.scripted import ScriptedModel

FAST = {"evals": {"timing_repeats": 1, "timing_rounds": 1, "race_check": [], "threads": [1, 2],
                  "ranks": [1, 2], "generation_batch": 1, "run_wall_s": 20,
                  "parsl": {"workers": 2}}}


def problems():
    return load_suite(BUILTIN_SUITE)


def records(run_dir):
    return {r["key"]: r for r in RunStore(run_dir).records()}


def test_reference_run_records_every_sample_and_resumes(tmp_path):
    settings = load_settings(FAST)
    spec = RunSpec(suite="builtin", model="reference", kinds=["translation"],
                   models=["openmp", "mpi"], problems=["reduce_sum"], sources=["serial"])
    run_dir = run_eval(spec, settings, problems(), "builtin", tmp_path, quiet=True)
    first = records(run_dir)
    assert set(first) == {"reduce_sum/translation/serial-openmp#0",
                          "reduce_sum/translation/serial-mpi#0"}
    for record in first.values():
        assert record["status"] == "passed", record
        assert set(record["times"]) == {"1", "2"} and record["baseline_s"] > 0
        assert record["code"] and record["build"]["ok"] and record["wall_s"] > 0
    # a kill mid-write leaves a cut-off line and one sample missing: only that one reruns
    lines = (run_dir / "records.jsonl").read_text().splitlines()
    (run_dir / "records.jsonl").write_text("\n".join(lines[:-1]) + '\n{"key": "cut')
    run_eval(spec, settings, problems(), "builtin", tmp_path, quiet=True)
    again = records(run_dir)
    assert set(again) == set(first)
    assert len((run_dir / "records.jsonl").read_text().splitlines()) == len(lines) + 1
    assert not (run_dir / "generations.jsonl").read_text().count("\n") > len(first)
    from ellora.evals.store import RunStore

    phases = RunStore(run_dir).phases()  # one line per invocation: where the time went
    assert len(phases) == 2 and phases[0]["samples"] == 2 and phases[1]["samples"] == 1
    for phase in ("start_s", "generate_s", "build_check_s", "timing_s", "shutdown_s"):
        assert phases[0][phase] >= 0
    assert phases[0]["timing_s"] > 0 and phases[0]["build_check_s"] > 0


CRASH = "```cpp\n#include <cstdlib>\ndouble sum(std::size_t n, const double* x) {\n" \
        "  std::abort();\n}\n```"
HANG = "```cpp\ndouble sum(std::size_t n, const double* x) {\n  volatile bool on = true;\n" \
       "  while (on) {}\n  return 0;\n}\n```"
FLOOD = "```cpp\n#include <cstdio>\ndouble sum(std::size_t n, const double* x) {\n" \
        "  for (;;) std::puts(\"spam spam spam spam spam spam spam spam\");\n}\n```"
BROKEN = "```cpp\ndouble sum(std::size_t n, const double* x) {\n  return x[0] +;\n}\n```"
WRONG = "```cpp\ndouble sum(std::size_t n, const double* x) {\n  return 1.0;\n}\n```"
GOOD = "```cpp\n#include <omp.h>\ndouble sum(std::size_t n, const double* x) {\n" \
       "  double t = 0;\n#pragma omp parallel for reduction(+:t)\n" \
       "  for (std::size_t i = 0; i < n; ++i) t += x[i];\n  return t;\n}\n```"


def test_bad_samples_never_stop_the_batch(tmp_path):
    settings = load_settings({"evals": {**FAST["evals"], "run_wall_s": 3, "race_check": ["4"]}})
    replies = [CRASH, HANG, FLOOD, BROKEN, WRONG, GOOD]
    model = ScriptedModel(replies=list(replies))
    spec = RunSpec(suite="builtin", model="scripted", kinds=["translation"], models=["openmp"],
                   problems=["reduce_sum"], sources=["serial"], samples=len(replies),
                   temperature=0.8)
    run_dir = run_eval(spec, settings, problems(), "builtin", tmp_path, quiet=True,
                       model_factory=lambda: model)
    by_index = {r["index"]: r for r in records(run_dir).values()}
    assert [by_index[i]["status"] for i in range(6)] == [
        "invalid", "invalid", "invalid", "not_built", "invalid", "passed"]
    assert "crashed" in by_index[0]["validation"][0]["detail"]
    assert {c["resource"] for c in by_index[5]["validation"]} == {"1", "2", "4"}  # race check
    assert "wall" in by_index[1]["validation"][0]["detail"]
    assert by_index[5]["speedups"]["2"] > 0 and by_index[5]["output_tokens"] > 0
    seeds = [options.get("seed") for options in model.call_options]
    assert seeds == [1234 + i for i in range(6)]  # sample i uses seed + i


def test_mpi_and_kokkos_candidates_run_with_ranks_and_threads(tmp_path):
    settings = load_settings(FAST)
    spec = RunSpec(suite="builtin", model="reference", kinds=["generation"],
                   models=["mpi+openmp", "kokkos"], problems=["transform_relu"])
    run_dir = run_eval(spec, settings, problems(), "builtin", tmp_path, quiet=True)
    by_target = {r["target"]: r for r in records(run_dir).values()}
    assert by_target["mpi+openmp"]["status"] == "passed"
    assert set(by_target["mpi+openmp"]["times"]) == {"1x2", "2x1"}
    assert by_target["kokkos"]["status"] == "passed"
    assert "-DELLORA_WITH_KOKKOS" in by_target["kokkos"]["build"]["command"]
