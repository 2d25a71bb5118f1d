"""Profilers on a real program: callgrind counts, perf stat counters (or an honest refusal),
gprof's flat profile."""

import pytest

from ellora.agents.services import create_task_sandbox
from ellora.agents.settings import load_settings
from ellora.sandbox import Limits
from ellora.tools.profilers import callgrind, gprof, perf_stat

PROGRAM = """
#include <cstdio>
double busy(int n) { double s = 0; for (int i = 0; i < n; ++i) s += i * 0.5; return s; }
double idle(int n) { return n; }
int main() { std::printf("%f %f\\n", busy(60000000), idle(3)); }
"""


@pytest.fixture
def built(tmp_path):
    sandbox = create_task_sandbox(load_settings())
    workspace = sandbox.new_workspace()
    (workspace / "p.cpp").write_text(PROGRAM)
    for output, extra in (("p", []), ("p_pg", ["-pg"])):
        result = sandbox.run(
            ["g++", "-O1", "-fno-inline", *extra, "p.cpp", "-o", output], workspace, Limits()
        )
        assert result.ok, result.stderr
    yield sandbox, workspace
    sandbox.discard_workspace(workspace)


def test_callgrind_finds_the_hot_function(built):
    sandbox, workspace = built
    summary = callgrind(sandbox, workspace, ["./p"], Limits(wall_s=120))
    assert summary.available and summary.total_instructions > 60_000_000
    assert "busy" in summary.top_functions[0]["function"]
    assert summary.top_functions[0]["share"] > 0.5


def test_perf_stat_reports_counters_or_names_what_was_refused(built):
    sandbox, workspace = built
    summary = perf_stat(sandbox, workspace, ["./p"], Limits())
    if summary.available:
        assert summary.counters.get("task-clock", 0) > 0
        for event in summary.unsupported:
            assert event in summary.message
    else:
        assert summary.message


def test_gprof_flat_profile(built):
    sandbox, workspace = built
    summary = gprof(sandbox, workspace, "p_pg", [], Limits())
    assert summary.available
    names = [f["function"] for f in summary.top_functions]
    assert names and "busy" in names[0]
