"""The cluster backend: the same run submitted through Parsl with its local provider
(HighThroughputExecutor worker processes), limits enforced on the worker."""

import pytest
from ellora.sandbox import Limits, create_sandbox


@pytest.fixture(scope="module")
def parsl_sandbox(tmp_path_factory):
    sandbox = create_sandbox("parsl", root=tmp_path_factory.mktemp("shared"),
                             parsl={"executor": "htex-local", "workers": 2})
    yield sandbox
    sandbox.close()


def test_runs_on_a_parsl_worker_with_the_local_sandbox_inside(parsl_sandbox):
    workspace = parsl_sandbox.new_workspace()
    (workspace / "in.txt").write_text("21\n")
    result = parsl_sandbox.run(["sh", "-c", "echo $(( $(cat in.txt) * 2 )) > out.txt; cat out.txt"],
                               workspace, Limits(wall_s=30))
    assert result.ok and result.stdout.strip() == "42"
    assert (workspace / "out.txt").read_text().strip() == "42"
    assert "Parsl worker (htex-local)" in result.notes[-1]
    assert result.isolation in ("bubblewrap", "rlimits")
    parsl_sandbox.discard_workspace(workspace)
    assert not workspace.exists()


def test_limits_hold_on_the_worker(parsl_sandbox):
    workspace = parsl_sandbox.new_workspace()
    result = parsl_sandbox.run(["sh", "-c", "while :; do :; done"], workspace, Limits(wall_s=1))
    assert not result.ok and result.limit_hit == "wall"
    parsl_sandbox.discard_workspace(workspace)
