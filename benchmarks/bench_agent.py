"""Benchmark of one ellora-agent task with the embedded model (issue: foundation).

Measures, in one process and one run:
- the example task's wall time split into model, build, run and everything else (our own
  overhead; target < 10% of wall time), median over several runs;
- the embedded model's generation speed inside the agent vs raw llama-cpp-python on the same
  prompt with the same sampling settings, interleaved (target ratio >= 0.95).

Run: .venv/bin/python benchmarks/bench_agent.py [--runs 3] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _services(model, state_dir: Path, prefer_transformations: bool = False):
    from ellora.agents.services import services_from_settings
    from ellora.agents.settings import load_settings

    settings = load_settings({"state_dir": str(state_dir), "agent": {
        "prefer_transformations": prefer_transformations, "max_fix_attempts": 1}})
    return services_from_settings(settings, model_factory=lambda: model)


def _task_state():
    from ellora.agents.runner import new_task_id

    source = REPO / "examples" / "saxpy.cpp"
    return {"task_id": new_task_id(), "task": "parallelize this loop with OpenMP",
            "target_model": "openmp", "file": str(source), "first_line": 5, "last_line": 7,
            "original": source.read_text(), "harness": str(REPO / "examples/saxpy.harness.cpp"),
            "status": "running", "steps": []}


def _raw_tokens_per_s(model, services) -> float:
    """Raw llama-cpp-python on the coder's first prompt, with the provider's settings."""
    from ellora.agents.coder import build_messages
    from ellora.agents.planner import planner
    from ellora.models.embedded import template_messages

    state = _task_state()
    state.update(planner(state, services).update)
    turns = template_messages(build_messages(state))
    llama = model.loaded().llama
    start = time.perf_counter()
    out = llama.create_chat_completion(messages=turns, temperature=model.temperature,
                                       top_p=model.top_p, max_tokens=model.max_tokens,
                                       seed=model.seed)
    elapsed = time.perf_counter() - start
    return out["usage"]["completion_tokens"] / elapsed


def _medians(rows: list[dict]) -> dict:
    keys = ("wall_s", "model_s", "build_s", "run_s", "other_s")
    return {k: statistics.median(r[k] for r in rows) for k in keys}


def _timed_run(services, state_dir: Path) -> dict:
    from ellora.agents.runner import run_task

    start = time.perf_counter()
    report = run_task(_task_state(), services, state_dir / "checkpoints.sqlite")
    wall = time.perf_counter() - start
    split = report["time"]
    other = wall - split["model_s"] - split["build_s"] - split["run_s"]
    return {"wall_s": wall, "model_s": split["model_s"], "build_s": split["build_s"],
            "run_s": split["run_s"], "other_s": other, "status": report["status"],
            "output_tokens": report["model"]["output_tokens"]}


def _default_path_rows(model, state_dir: Path, runs: int) -> list[dict]:
    services = _services(model, state_dir, prefer_transformations=True)
    _ = services.toolchain
    return [_timed_run(services, state_dir) for _ in range(runs)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from ellora.models import ModelSettings, create_chat_model

    model = create_chat_model(ModelSettings())
    load_start = time.perf_counter()
    model.loaded()
    load_s = time.perf_counter() - load_start
    rows, agent_speed, raw_speed = [], [], []
    with tempfile.TemporaryDirectory() as state_dir:
        services = _services(model, Path(state_dir))
        _ = services.toolchain  # detected once, like a long-running process would
        for _ in range(args.runs):
            row = _timed_run(services, Path(state_dir))
            rows.append(row)
            if row["model_s"] > 0:
                agent_speed.append(row["output_tokens"] / row["model_s"])
            raw_speed.append(_raw_tokens_per_s(model, services))
        default_rows = _default_path_rows(model, Path(state_dir), args.runs)
    median = _medians(rows)
    result = {
        "runs": rows, "median": median, "model_load_s": load_s,
        "overhead_fraction": median["other_s"] / median["wall_s"],
        "agent_tokens_per_s": statistics.median(agent_speed),
        "raw_tokens_per_s": statistics.median(raw_speed),
        "default_path": {"runs": default_rows, "median": _medians(default_rows)},
    }
    default_median = result["default_path"]["median"]
    result["default_path"]["overhead_fraction"] = default_median["other_s"] / default_median["wall_s"]
    result["generation_speed_ratio"] = result["agent_tokens_per_s"] / result["raw_tokens_per_s"]
    print("| measure | median |\n|---|---|")
    for key, value in median.items():
        print(f"| {key} | {value:.2f} |")
    print(f"| overhead (other / wall) | {result['overhead_fraction']:.1%} |")
    print(f"| model load (once per process) | {load_s:.2f} s |")
    print(f"| tokens/s inside the agent | {result['agent_tokens_per_s']:.1f} |")
    print(f"| tokens/s raw llama-cpp-python | {result['raw_tokens_per_s']:.1f} |")
    print(f"| ratio agent / raw | {result['generation_speed_ratio']:.3f} |")
    print("\nDefault path (verified transformation, no model call):\n| measure | median |\n|---|---|")
    for key, value in default_median.items():
        print(f"| {key} | {value:.2f} |")
    print(f"| overhead (other / wall) | {result['default_path']['overhead_fraction']:.1%} |")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
