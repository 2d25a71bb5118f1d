"""``ellora eval run/report/list`` end to end, and agent-mode samples beside model-alone ones."""

import json

from ellora.agents.cli.main import main
from ellora.agents.settings import load_settings
from ellora.evals.runner import RunSpec, run_eval
from ellora.evals.store import RunStore
from ellora.evals.suite import BUILTIN_SUITE, load_suite

FAST_SET = ["--set", "evals.timing_repeats=1", "--set", "evals.timing_rounds=1",
            "--set", "evals.race_check=[]", "--set", "evals.threads=[1,2]"]


def no_model():
    raise AssertionError("the transformation path needs no model")


def test_run_agent_and_reference_then_report_side_by_side(tmp_path, capsys):
    code = main(["eval", "run", "builtin", "--model", "reference", "--problems", "reduce_dot",
                 "--models", "omp", "--kinds", "translation", "--sources", "serial",
                 "--out", str(tmp_path), "--name", "alone", "--quiet", *FAST_SET])
    assert code == 0
    alone = tmp_path / "alone"
    settings = load_settings({"evals": {"timing_repeats": 1, "timing_rounds": 1, "race_check": [],
                                        "threads": [1, 2]},
                              "agent": {"timing_repeats": 1, "race_check_counts": []}})
    spec = RunSpec(suite="builtin", model="scripted", agent=True, kinds=["translation"],
                   models=["openmp"], sources=["serial"], problems=["reduce_dot"])
    agent = run_eval(spec, settings, load_suite(BUILTIN_SUITE), "builtin", tmp_path,
                     model_factory=no_model, quiet=True, name="agent")
    [record] = RunStore(agent).records()
    assert record["agent"]["status"] == "verified" and record["status"] == "passed"
    assert record["agent"]["change_origin"] == "transformation"
    assert "#pragma omp parallel for" in record["code"]
    capsys.readouterr()
    assert main(["eval", "report", str(alone), str(agent), "--out", str(tmp_path / "rep")]) == 0
    report = (tmp_path / "rep" / "report.md").read_text()
    assert "## Side by side" in report and "scripted (agent)" in report
    assert "reference (alone)" in report and "serial->openmp" in report
    data = json.loads((tmp_path / "rep" / "report.json").read_text())
    reference, agent_run = (run["by_task"]["serial->openmp"] for run in data["runs"])
    assert agent_run["pass@1"] == 1.0 and agent_run["parallel_pass@1"] == 1.0
    assert reference["pass@1"] == 1.0 and reference["parallel_pass@1"] == 0.0  # serial code
    for plot in ("pass_at_1.png", "speedups.png"):
        assert (tmp_path / "rep" / plot).stat().st_size > 1000
    seconds = reference["resources"] and record["baseline_s"]
    for threshold, kept in ((seconds / 2, ["reduce_dot"]), (seconds * 1000, [])):
        assert main(["eval", "report", str(alone), str(agent), "--out", str(tmp_path / "big"),
                     "--no-plots", "--min-reference-s", str(threshold)]) == 0
        subset = json.loads((tmp_path / "big" / "report.json").read_text())["subset"]
        assert subset["problems"] == kept
        assert "serial reference takes at least" in (tmp_path / "big" / "report.md").read_text()
    assert main(["eval", "report", str(agent), "--min-reference-s", "-1"]) == 2


def test_list_and_bad_input(tmp_path, capsys):
    assert main(["eval", "list", "builtin", "--models", "kokkos", "--kinds", "generation"]) == 0
    listed = capsys.readouterr().out.split()
    assert "reduce_sum/generation/kokkos" in listed and len(listed) >= 30
    assert main(["eval", "run", str(tmp_path / "nope"), "--model", "reference"]) == 2
    assert "bad suite" in capsys.readouterr().err
    assert main(["eval", "report", str(tmp_path)]) == 2
    assert main(["eval", "run", "builtin", "--model", "reference", "--kinds", "poems"]) == 2
