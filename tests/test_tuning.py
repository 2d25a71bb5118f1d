"""Known-safe variants for the optimize round, offered only where they are valid."""

import pytest
from conftest import EXAMPLES, FAST_AGENT
from ellora.tools.loops.region import plan_region
from ellora.tools.tuning import variants


def names_for(example: str, first: int, last: int, target: str) -> list[str]:
    source = (EXAMPLES / example).read_text()
    plan = plan_region(source, first, last, target)
    assert plan.source is not None, plan.left_serial()
    [decision] = plan.transformed
    return [v.name for v in variants(target, plan.source, decision.to_dict())]


@pytest.mark.parametrize(
    "example, lines, target, expected",
    [
        ("spmv.cpp", (5, 11), "openmp", ["schedule(dynamic, 64)"]),
        ("spmv.cpp", (5, 11), "kokkos", ["Schedule<Dynamic>"]),
        ("jacobi.cpp", (7, 12), "openmp", ["collapse(2)"]),
        ("matmul.cpp", (5, 11), "openmp", []),  # the k loop carries c[i*n+j]: no collapse
        ("saxpy.cpp", (5, 7), "openmp", []),
    ],
)
def test_variants_only_where_valid(example, lines, target, expected):
    assert names_for(example, *lines, target) == expected


def test_variants_follow_the_recorded_decision():
    """The variants read the planner's record, not the source: an irregular loop gets a
    dynamic schedule, a perfect nest with a parallel inner loop gets collapse(2)."""
    candidate = "#pragma omp parallel for schedule(static)\nfor (int i = 0; i < n; ++i) {}\n"
    regular = {"irregular": False, "perfectly_nested": True, "inner_parallel": False}
    assert variants("openmp", candidate, regular) == []
    both = variants("openmp", candidate, {"irregular": True, "perfectly_nested": True,
                                          "inner_parallel": True})
    assert [v.name for v in both] == ["schedule(dynamic, 64)", "collapse(2)"]
    assert "schedule(dynamic, 64)" in both[0].source and "collapse(2)" in both[1].source
    assert variants("kokkos", candidate, {"irregular": True}) == []  # no RangePolicy in it


def test_optimize_round_runs_in_the_graph_and_keeps_a_tested_candidate(make_services):
    from test_agent_graph import run, task_state

    services = make_services(None, **FAST_AGENT)
    report = run(services, task_state("parallelize with OpenMP", EXAMPLES / "jacobi.cpp", 7, 12))
    assert report["status"] == "verified", report["status_reason"]
    [tried] = report["optimizations"]
    assert tried["variant"] == "collapse(2)" and "x at 2 threads" in tried["result"]
    kept = "kept" in tried["result"]
    assert ("collapse(2)" in report["diff"]) == kept
