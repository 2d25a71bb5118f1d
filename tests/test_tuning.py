"""Known-safe variants for the optimize round, offered only where they are valid."""

import pytest
from conftest import EXAMPLES, FAST_AGENT
from ellora.tools.cpp_syntax import loops_in_lines, parse_cpp
from ellora.tools.loop_analysis import analyze_loop
from ellora.tools.transformations import to_kokkos, to_openmp
from ellora.tools.tuning import variants


def names_for(example: str, first: int, last: int, target: str) -> list[str]:
    source = (EXAMPLES / example).read_text()
    loop = loops_in_lines(parse_cpp(source), first, last)[0]
    facts = analyze_loop(loop, source)
    transform = to_openmp if target == "openmp" else to_kokkos
    return [v.name for v in variants(target, source, transform(source, loop, facts).source, facts)]


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


def test_optimize_round_runs_in_the_graph_and_keeps_a_tested_candidate(make_services):
    from test_agent_graph import run, task_state

    services = make_services(None, **FAST_AGENT)
    report = run(services, task_state("parallelize with OpenMP", EXAMPLES / "jacobi.cpp", 7, 12))
    assert report["status"] == "verified", report["status_reason"]
    [tried] = report["optimizations"]
    assert tried["variant"] == "collapse(2)" and "x at 2 threads" in tried["result"]
    kept = "kept" in tried["result"]
    assert ("collapse(2)" in report["diff"]) == kept
