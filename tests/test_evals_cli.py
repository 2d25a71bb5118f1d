"""``ellora eval run/report/list`` end to end, and agent-mode samples beside model-alone ones."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
                              "agent": {"timing_repeats": 1, "race_check_counts": [],
                                        "min_speedup": 0}})  # a busy machine times anything
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
    assert agent_run["race_free_pass@1"] == 1.0 and reference["race_free_pass@1"] == 0.0
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


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]


def test_ctrl_c_stops_a_run_within_seconds_and_a_rerun_resumes_it(tmp_path):
    """SIGINT while a sample is being timed (each timing takes several seconds here): the run
    ends within 5 s with its finished records intact, nothing of it keeps running, and the
    rerun computes only the samples that were not finished."""
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    command = [sys.executable, "-m", "ellora.agents.cli.main", "eval", "run", "builtin",
               "--model", "reference", "--problems", "reduce_sum,reduce_dot,transform_relu",
               "--models", "omp", "--kinds", "translation", "--sources", "serial",
               "--out", str(tmp_path), "--name", "stopped", "--quiet"]
    slow = ["--set", "evals.timing_rounds=12", "--set", "evals.timing_repeats=15"]
    run = tmp_path / "stopped"
    process = subprocess.Popen([*command, *slow], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600  # a loaded machine builds and times slowly
        while not (run / "records.jsonl").is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the next sample's timing is under way
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, err = process.communicate(timeout=60)
        stopped_after = time.monotonic() - started
    finally:
        process.kill()
    seen = (f"exit {process.returncode} {stopped_after:.1f} s after SIGINT, "
            f"{len(_records(run))} records, stderr {err!r}")  # says which way it went wrong
    assert process.returncode == 130, seen
    assert stopped_after < 5, seen
    finished = [r["key"] for r in _records(run)]  # every line whole
    assert 1 <= len(finished) < 3 and all(r["status"] == "passed" for r in _records(run))
    sandbox_root = tmp_path / "tmp" / "ellora-sandbox"
    assert [p.name for p in sandbox_root.iterdir() if not p.name.startswith(".")] == []
    leftover = subprocess.run(["pgrep", "-f", str(tmp_path / "tmp")], check=False,
                              capture_output=True, text=True).stdout.split()
    assert leftover == [], "processes of the stopped run are still alive"
    again = subprocess.run([*command, *FAST_SET], env=env, check=False, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    keys = [r["key"] for r in _records(run)]
    assert len(set(keys)) == 3 and all(keys.count(key) == 1 for key in finished)
    phases = [json.loads(line) for line in (run / "phases.jsonl").read_text().splitlines()]
    assert phases[0]["interrupted"] is True and "interrupted" not in phases[1]
    assert phases[1]["samples"] == 3 - len(finished)


def test_workspaces_of_a_killed_run_are_removed_when_the_next_one_starts(tmp_path):
    """kill -9 in the middle of the builds leaves eval-* (and probe-*) workspaces behind; the
    next run removes them as it starts, and leaves none of its own."""
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    sandbox_root = tmp_path / "tmp" / "ellora-sandbox"
    command = [sys.executable, "-m", "ellora.agents.cli.main", "eval", "run", "builtin",
               "--model", "reference", "--problems", "reduce_sum,reduce_dot,transform_relu",
               "--models", "omp", "--kinds", "translation", "--sources", "serial",
               "--out", str(tmp_path), "--name", "killed", "--quiet", *FAST_SET]

    def workspaces() -> set[str]:
        found = sandbox_root.iterdir() if sandbox_root.is_dir() else []
        return {p.name for p in found if not p.name.startswith(".")}

    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not any(name.startswith("eval-") for name in workspaces()):
            assert time.monotonic() < deadline, "no eval workspace appeared"
            time.sleep(0.05)
    finally:
        process.kill()
        process.wait()
    leaked = workspaces()
    assert any(name.startswith("eval-") for name in leaked)
    again = subprocess.run(command, env=env, check=False, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert workspaces() == set(), f"left behind: {workspaces()} (killed run left {leaked})"


def test_a_missing_adapter_is_one_line_naming_the_setting(tmp_path):
    """``model.lora_path`` naming no file: a one-line error naming the setting and the
    export command, exit 2, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "ellora.agents.cli.main", "eval", "run", "builtin",
         "--model", "embedded", "--problems", "reduce_sum", "--models", "omp",
         "--kinds", "translation", "--sources", "serial", "--set",
         f"model.lora_path={tmp_path / 'missing.gguf'}", "--out", str(tmp_path), "--quiet",
         *FAST_SET], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "model.lora_path" in lines[0] and "export-gguf" in lines[0]
