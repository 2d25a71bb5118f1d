"""std::sort calls become a parallel block sort: compiled and run against std::sort on many
sizes, thread counts and comparators, and ported by the agent on the suite's sort problems."""

from __future__ import annotations

import pytest
from conftest import FAST_AGENT
from ellora.tools.loops.region import plan_region
from ellora.tools.sort_transforms import sort_calls
from loop_support import build, copy_suite_problem, run_agent, run_on_threads

SORTS = """\
#include <algorithm>
#include <functional>
#include <vector>

struct Item { int key; int payload; };

void sortDoubles(std::size_t n, double* x) {
  std::sort(x, x + n);
}

void sortDescending(std::vector<double>& v) {
  std::sort(v.begin(), v.end(), std::greater<double>());
}

void sortItems(std::vector<Item>& items) {
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.key < b.key; });
}
"""

CHECK = """
#include <cstdio>
int main() {
  const std::size_t sizes[] = {0, 1, 2, 3, 5, 8, 1000, 100003};
  int ok = 1;
  for (std::size_t n : sizes) {
    std::vector<double> a(n), b;
    std::vector<Item> items(n);
    unsigned long long s = 12345 + n;
    for (std::size_t i = 0; i < n; ++i) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      a[i] = (double)((s >> 33) % 997) - 400.0;  // many duplicates, negatives
      items[i] = Item{(int)((s >> 40) % 50), (int)i};
    }
    b = a;
    std::vector<double> expected = a;
    std::sort(expected.begin(), expected.end());
    sortDoubles(n, a.data());
    ok &= a == expected;
    sortDescending(b);
    std::reverse(expected.begin(), expected.end());
    ok &= b == expected;
    std::vector<Item> sorted = items;
    sortItems(sorted);
    long long payloads = 0, want = 0;
    for (std::size_t i = 0; i < n; ++i) {
      payloads += sorted[i].payload;
      want += (long long)i;
      if (i > 0) ok &= sorted[i - 1].key <= sorted[i].key;
    }
    ok &= payloads == want;
  }
  std::printf("%d\\n", ok);
}
"""


def test_sorts_a_block_sort_reproduces_are_found_and_the_others_named():
    """Numbers in their default (or std::greater) order: equivalent elements are equal, so
    the block sort's result is std::sort's. Structs by a key, or numbers under a lambda,
    have equivalent elements that differ, whose order std::sort leaves to the library."""
    from ellora.tools.sort_transforms import refused_sorts

    calls = sort_calls(SORTS, 1, 100)
    assert [c.line for c in calls] == [8, 12]
    assert calls[1].arguments == ["v.begin()", "v.end()", "std::greater<double>()"]
    refused = refused_sorts(SORTS, 1, 100)
    assert [line for line, _ in refused] == [16] and "not numbers" in refused[0][1]
    by_magnitude = SORTS.replace("std::greater<double>()",
                                 "[](double a, double b) { return a * a < b * b; }")
    assert [line for line, _ in refused_sorts(by_magnitude, 1, 100)] == [12, 16]
    assert sort_calls(SORTS.replace("std::sort", "std::stable_sort"), 1, 100) == []
    assert sort_calls(SORTS.replace("std::sort", "sort"), 1, 100) == []  # not std's
    using = "using namespace std;\n" + SORTS.replace("std::sort", "sort")
    assert len(sort_calls(using, 1, 100)) == 2


def test_the_openmp_block_sort_equals_std_sort(tmp_path):
    plan = plan_region(SORTS, 1, 100, "openmp")
    assert plan.sorts == [8, 12] and plan.pattern == "sort" and not plan.transformed
    assert [d.line for d in plan.serial] == [16]  # the struct sort stays std::sort
    # the 2 calls, 2 definitions and the default-order overload calling the other
    assert plan.source.count("ellora_parallel_sort(") == 5
    assert "#pragma omp parallel for" in plan.source
    binary = build(tmp_path, plan.source + CHECK)
    for threads in (1, 2, 3, 4):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_a_sort_only_region_has_no_transformation_for_cuda():
    plan = plan_region(SORTS, 1, 100, "cuda")
    assert plan.source is None and plan.sorts == [] and plan.pattern == "unknown"
    plan = plan_region(SORTS, 1, 5, "openmp")  # the lines hold no sort and no loop
    assert plan.source is None and plan.loops_found == 0
    assert plan.first_refusal == "no for loop in the region"


@pytest.mark.parametrize(
    "problem,task",
    [
        ("sort_values", "parallelize this loop with OpenMP"),
        ("sort_kth_smallest", "port this loop to Kokkos"),
        ("sort_values", "parallelize this loop with MPI"),
    ],
)
def test_the_agent_ports_std_sort_and_verifies_it(make_services, tmp_path, problem, task):
    source, harness, meta = copy_suite_problem(tmp_path, problem)
    agent = {**FAST_AGENT["agent"], "timing_size": meta["timing_size"] // 10,
             "test_sizes": meta["check_sizes"][:3]}
    services = make_services(None, agent=agent)
    report = run_agent(services, task, source, harness, 1, len(source.read_text().splitlines()))
    assert report["status"] == "verified", report["status_reason"]
    assert report["change_origin"] == "transformation"
    assert report["plan"]["pattern"] == "sort"
    assert "ellora_parallel_sort(" in report["diff"]
