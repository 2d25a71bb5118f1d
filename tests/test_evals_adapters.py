"""ParEval (a fixture in its layout, run with its own drivers) and ChatKokkos review runs."""

import argparse
from pathlib import Path

from ellora.agents.settings import load_settings
from ellora.evals.chatkokkos import load_review_items, rating_summary
from ellora.evals.pareval import load_pareval
from ellora.evals.report import write_report
from ellora.evals.review_run import run_review
from ellora.evals.runner import RunSpec, run_eval
from ellora.evals.store import RunStore
from ellora.models.scripted import ScriptedModel

FIXTURE = Path(__file__).parent / "fixtures" / "pareval_mini"
FAST = {"evals": {"timing_repeats": 1, "timing_rounds": 1, "threads": [1, 2], "generation_batch": 1,
                  "parsl": {"workers": 2}, "validation_reruns": 3}}
OPENMP_BODY = "```cpp\n  double s = 0.0;\n  #pragma omp parallel for reduction(+:s)\n" \
              "  for (size_t i = 0; i < x.size(); ++i) s += x[i];\n  return s;\n}\n```"
WRONG_BODY = "```cpp\n  return 0.5;\n}\n```"


def test_pareval_samples_build_and_run_with_its_drivers(tmp_path):
    model = ScriptedModel(replies=[OPENMP_BODY, WRONG_BODY])
    spec = RunSpec(suite="pareval", model="scripted", models=["openmp"], samples=1,
                   kinds=["generation", "translation"])
    run_dir = run_eval(spec, load_settings(FAST), load_pareval(FIXTURE), "pareval", tmp_path,
                       model_factory=lambda: model, quiet=True)
    records = {r["kind"]: r for r in RunStore(run_dir).records()}
    generated = records["generation"]
    assert generated["status"] == "passed", generated
    assert set(generated["times"]) == {"1", "2"} and generated["baseline_s"] > 0
    reruns = generated["reruns"]  # each rerun validated and timed by the driver again
    assert len(reruns) == 3 and all(r["validation"] == "PASS" for r in reruns)
    assert all(r["time"] > 0 and r["best"] > 0 for r in reruns)
    assert "-DUSE_OMP=1" in generated["build"]["command"]
    assert records["translation"]["status"] == "invalid"  # Validation: FAIL
    assert "Translate" not in model.calls[1][-1].content  # ParEval's own translation prompt
    assert "// Serial implementation of total" in model.calls[1][-1].content


def test_the_reference_submits_the_source_as_the_driver_compiles_it(tmp_path):
    """The reference run times the file the agent starts from: ParEval's source preceded by
    the system headers its driver includes (its sources use std::array without including it)."""
    spec = RunSpec(suite="pareval", model="reference", models=["openmp"], samples=1,
                   kinds=["translation"])
    run_dir = run_eval(spec, load_settings(FAST), load_pareval(FIXTURE), "pareval", tmp_path,
                       quiet=True)
    [record] = RunStore(run_dir).records()
    assert record["status"] == "passed", record
    head = record["code"].split("\n\n")[0].splitlines()
    assert head == ["#include <vector>", "#include <cmath>", "#include <cstdlib>"]


def test_a_problem_pattern_that_matches_nothing_is_an_error_naming_it(tmp_path):
    import pytest

    spec = RunSpec(suite="pareval", model="reference", models=["openmp"], samples=1,
                   kinds=["translation"], problems=["00_reduce_total", "no_such_problem"])
    with pytest.raises(ValueError, match="'no_such_problem' matches no problem"):
        run_eval(spec, load_settings(FAST), load_pareval(FIXTURE), "pareval", tmp_path,
                 quiet=True)


YAML = """- Context: |
    OpenMP to Kokkos translation
  Question: |
    Translate this loop to Kokkos: for (i = 0; i < n; i++) y[i] += a * x[i];
- Context: |
    Sequential to Kokkos parallelization
  Question: |
    Parallelize: for (i = 0; i < n; i++) s += x[i];
"""


def test_chatkokkos_questions_are_answered_for_review_and_resume(tmp_path):
    questions = tmp_path / "kokkos_testing.yaml"
    questions.write_text(YAML)
    items = load_review_items(questions)
    assert [i.context for i in items] == ["OpenMP to Kokkos translation",
                                          "Sequential to Kokkos parallelization"]
    args = argparse.Namespace(suite=f"chatkokkos:{questions}", model="scripted",
                              temperature=0.2, prompt_template=None, name="review", quiet=True)
    settings = load_settings(FAST)
    model = ScriptedModel(replies=["Use Kokkos::parallel_for.", "Use parallel_reduce."])
    folder = run_review(items, args, settings, "chatkokkos", tmp_path, lambda: model)
    run_review(items, args, settings, "chatkokkos", tmp_path, lambda: ScriptedModel())
    assert len(RunStore(folder).records()) == 2  # the second run asked nothing
    written = write_report([folder], tmp_path / "report", plots=False)
    review = next(p for p in written if p.name == "review.md").read_text()
    assert "Use parallel_reduce." in review and "Rating (1-5)" in review
    ratings = next(p for p in written if p.name == "ratings.csv")
    lines = ratings.read_text().splitlines()
    ratings.write_text("\n".join([lines[0], lines[1].replace(",,,", ",4,yes,") , lines[2]]))
    summary = rating_summary(ratings)
    assert summary == {"OpenMP to Kokkos translation": {"rated": 1, "mean_rating": 4.0}}
