"""Loops the analysis could not prove parallel before: pointers that may overlap (checked at
run time), min/max reductions, ``i + 1 < n`` headers, transposed writes, and regions whose
outer loop is a time step. Transformed code is compiled and run against the serial code,
including with overlapping buffers, where the parallel version must fall back."""

from __future__ import annotations

import re

import pytest
from conftest import FAST_AGENT
from ellora.tools.loops.legality.verdict import RangeCheck
from ellora.tools.loops.region import plan_region
from loop_support import (
    SUITE,
    build,
    build_and_run,
    copy_suite_problem,
    guard_check_program,
    refusal,
    region_source,
    rewrite_loop,
    run_agent,
    run_on_threads,
    verdict_of,
    verdict_over,
)

STENCIL = (
    "void smooth(int n, const double* u, double* v) {\n"
    "  for (int i = 1; i + 1 < n; ++i) {\n"
    "    v[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1];\n"
    "  }\n"
    "}\n"
)


def test_possibly_overlapping_pointers_get_a_run_time_check():
    verdict, model = verdict_of(STENCIL)
    assert verdict.parallel, verdict.dependence
    assert verdict.range_checks == [RangeCheck("v", "u", False)]
    assert not verdict.object_checks
    assert model.header.canonical_test.startswith("i < ")


def test_the_check_is_true_only_for_disjoint_ranges(tmp_path):
    program = guard_check_program(STENCIL, "int n, const double* u, double* v", (
        "int main() {\n  static double a[64], b[64];\n"
        "  std::printf(\"%d %d %d %d %d %d\\n\", check(32, a, b), check(32, a, a + 1),\n"
        "              check(32, a + 1, a), check(8, a, a + 8), check(8, a, a + 7),\n"
        "              check(0, a, a));\n}\n"
    ))
    # u touches [0, n-1], v writes [1, n-2]: v = u + 8 with n = 8 writes a[9..14] (apart),
    # v = u + 7 writes a[8..13] while u reads a[0..7]: still apart; shifting by one overlaps
    assert build_and_run(tmp_path, program).split() == ["1", "0", "0", "1", "1", "1"]


def test_versioned_openmp_stencil_equals_serial_even_in_place(tmp_path):
    verdict, _ = verdict_of(STENCIL)
    parallel = rewrite_loop(verdict, "openmp").replace("smooth(", "smooth_parallel(")
    assert "if(ellora_disjoint_2" in parallel and "i < " in parallel
    program = (
        "#include <cstdio>\n" + STENCIL + parallel
        + "int main() {\n  const int n = 100001;\n"
        "  static double a[n + 1], b[n + 1], c[n], d[n];\n"
        "  for (int i = 0; i <= n; ++i) a[i] = b[i] = (i * 7919) % 1000 / 7.0;\n"
        "  smooth(n, a, a + 1); smooth_parallel(n, b, b + 1);\n"  # overlapping: must fall back
        "  smooth(n, a, c); smooth_parallel(n, b, d);\n"  # disjoint: runs in parallel
        "  int same = 1;\n  for (int i = 0; i <= n; ++i) same &= a[i] == b[i];\n"
        "  for (int i = 0; i < n; ++i) same &= c[i] == d[i];\n"
        "  std::printf(\"%d\\n\", same);\n}\n"
    )
    assert build_and_run(tmp_path, program).strip() == "1"


@pytest.mark.parametrize(
    "body, operator",
    [
        ("if (x[i] > best) best = x[i];", "max"),
        ("if (best > x[i]) { best = x[i]; }", "min"),
        ("best = std::max(best, x[i] * x[i]);", "max"),
        ("best = fmin(x[i], best);", "min"),
    ],
)
def test_extremum_updates_are_max_or_min_reductions(body, operator):
    verdict, _ = verdict_of(
        "#include <cmath>\n#include <algorithm>\n"
        f"double f(int n, const double* x) {{ double best = x[0];\n"
        f" for (int i = 0; i < n; ++i) {{ {body} }} return best; }}"
    )
    assert verdict.parallel, verdict.dependence
    assert [(r.name, r.operator) for r in verdict.reducers] == [("best", operator)]


@pytest.mark.parametrize(
    "body",
    [
        # if (x[i] <= x[best]) best = i; (the last index of the minimum) is an argmin now
        # (test_loop_analysis); accepting i only when it beats the kept key by a margin
        # makes the kept index depend on the order: x = {0, 1.5, 2} keeps 1, argmax says 2
        "if (x[i] > x[best] + 1) best = i;",
        "if (x[i] > best) best = x[i]; else best = 0;",
        # if (x[i] > best) best = x[i]; y[i] = best; reads the running maximum: a max
        # scan now (test below); keeping a value other than the key compared is not one
        "if (x[i] > best) best = x[i] - 1; y[i] = best;",
    ],
)
def test_updates_that_are_not_plain_extrema_stay_refused(body):
    verdict, _ = verdict_of(
        f"void f(int n, const double* x, double* __restrict__ y) {{ int best = 0;\n"
        f" for (int i = 0; i < n; ++i) {{ {body} }} }}"
    )
    assert refusal(verdict) == ("carried_scalar", "best")
    assert "the scalar best carries a value" in str(verdict.dependence)


RUNNING_BEST = (
    "void runBest(int n, const double* x, double* __restrict__ y) { int best = 0;\n"
    " for (int i = 0; i < n; ++i) { if (x[i] > best) best = x[i]; y[i] = best; } }\n"
)


def test_a_running_maximum_read_in_every_iteration_is_a_max_scan(tmp_path):
    verdict, _ = verdict_of(RUNNING_BEST)
    assert verdict.pattern == "scan", verdict.dependence
    assert (verdict.scan.name, verdict.scan.operator, verdict.scan.kind) == (
        "best", "max", "inclusive")
    parallel = region_source(RUNNING_BEST, 1, 3, "openmp").replace("runBest(", "runBest_par(")
    binary = build(tmp_path, "#include <cstdio>\n#include <vector>\n" + RUNNING_BEST
                   + parallel + (
        "int main() {\n  int same = 1;\n"
        "  for (int n : {0, 1, 2, 7, 100003}) {\n"
        "    std::vector<double> x(n), a(n), b(n);\n"  # negatives, fractions, ties
        "    for (int i = 0; i < n; ++i) x[i] = ((i * 7919) % 2003) / 3.0 - 300.0;\n"
        "    runBest(n, x.data(), a.data()); runBest_par(n, x.data(), b.data());\n"
        "    same &= a == b;\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"))
    for threads in (1, 2, 3):
        assert run_on_threads(binary, threads).strip() == "1", f"{threads} threads"


def test_min_and_max_reductions_run_correctly_with_openmp(tmp_path):
    source = (SUITE / "transform_normalize" / "serial.cpp").read_text()
    plan = plan_region(source, 1, 10_000, "openmp")
    assert "reduction(min:lo)" in plan.source and "reduction(max:hi)" in plan.source
    assert [d.pattern for d in plan.transformed] == ["reduction", "map"]
    parallel = plan.source.replace("void normalize(", "void normalize_parallel(")
    program = (
        parallel + source.replace("#include <cstddef>", "#include <cstdio>")
        + "int main() {\n  static double a[50000], b[50000];\n"
        "  for (int i = 0; i < 50000; ++i) a[i] = b[i] = ((i * 104729) % 9973) - 4000.5;\n"
        "  normalize(50000, a); normalize_parallel(50000, b);\n  int same = 1;\n"
        "  for (int i = 0; i < 50000; ++i) same &= a[i] == b[i];\n"
        "  std::printf(\"%d\\n\", same);\n}\n"
    )
    assert build_and_run(tmp_path, program).strip() == "1"


def test_a_time_step_loop_stays_serial_and_the_loops_inside_run_in_parallel(tmp_path):
    source = (SUITE / "stencil_heat_steps" / "serial.cpp").read_text()
    steps, _ = verdict_of(source)
    assert refusal(steps) == ("carried_array", "next")
    assert "does not depend on s" in str(steps.dependence)
    plan = plan_region(source, 1, 10_000, "openmp")
    lines = source.splitlines()
    assert ["std::size_t i = 1" in lines[d.line - 1] for d in plan.transformed] == [True, True]
    assert ["int s = 0" in lines[d.line - 1] for d in plan.serial] == [True]
    assert plan.source.count("#pragma omp parallel for") == 2
    assert "kept serial" in plan.left_serial()[0]
    assert "loops inside it run in parallel" in plan.left_serial()[0]
    parallel = plan.source.replace("void heat1d(", "void heat1d_parallel(")
    program = (
        "#include <cstdio>\n" + source + parallel
        + "int main() {\n  static double a[20000], b[20000];\n"
        "  for (int i = 0; i < 20000; ++i) a[i] = b[i] = (i % 17) * 0.5;\n"
        "  heat1d(20000, 30, a); heat1d_parallel(20000, 30, b);\n  int same = 1;\n"
        "  for (int i = 0; i < 20000; ++i) same &= a[i] == b[i];\n"
        "  heat1d(1, 3, a); heat1d_parallel(1, 3, b); heat1d(0, 3, a); heat1d_parallel(0, 3, b);\n"
        "  std::printf(\"%d\\n\", same);\n}\n"
    )
    assert build_and_run(tmp_path, program).strip() == "1"


def test_a_running_sum_read_in_the_loop_is_a_scan_not_a_refusal():
    inclusive, _ = verdict_of((SUITE / "scan_prefix_sum" / "serial.cpp").read_text())
    exclusive, _ = verdict_of((SUITE / "scan_exclusive_int" / "serial.cpp").read_text())
    assert (inclusive.scan.kind, exclusive.scan.kind) == ("inclusive", "exclusive")
    assert (inclusive.pattern, inclusive.scan.operator) == ("scan", "+")
    both_sides, _ = verdict_of(
        "void f(int n, const int* __restrict__ x, int* __restrict__ a, int* __restrict__ b) {\n"
        " int s = 0; for (int i = 0; i < n; ++i) { a[i] = s; s += x[i]; b[i] = s; } }"
    )
    # read before and after its update: neither an inclusive nor an exclusive scan
    assert refusal(both_sides) == ("carried_scalar", "s")


def test_argmin_and_find_first_return_the_serial_index_with_ties(tmp_path):
    argmin = (SUITE / "reduce_argmin" / "serial.cpp").read_text()
    find = (SUITE / "search_find_first" / "serial.cpp").read_text()
    located, _ = verdict_of(argmin)
    assert (located.pattern, located.locate.index, located.locate.strict) == (
        "argmin", "best", True)
    found, _ = verdict_of(find)
    assert found.pattern == "search" and found.search is not None
    parallel_argmin = region_source(argmin, 1, 99, "openmp").replace(
        "argMin(", "argMin_parallel(")
    parallel_find = region_source(find, 1, 99, "openmp").replace(
        "findFirst(", "findFirst_parallel(")
    program = (
        "#include <cstdio>\n#include <initializer_list>\n" + argmin + find + parallel_argmin + parallel_find
        + "int main() {\n  static double x[100000]; static int v[100000]; int same = 1;\n"
        "  for (int i = 0; i < 100000; ++i) { x[i] = (i * 37) % 1000; v[i] = i % 5000; }\n"
        "  same &= argMin(100000, x) == argMin_parallel(100000, x);\n"  # 100 tied minima
        "  x[0] = -1; same &= argMin(100000, x) == argMin_parallel(100000, x);\n"
        "  same &= argMin(1, x) == argMin_parallel(1, x) && argMin(0, x) == argMin_parallel(0, x);\n"
        "  for (int t : {0, 4999, 77, -3})\n"
        "    same &= findFirst(100000, v, t) == findFirst_parallel(100000, v, t);\n"
        "  same &= findFirst(0, v, 0) == findFirst_parallel(0, v, 0);\n"
        "  std::printf(\"%d\\n\", same);\n}\n"
    )
    assert build_and_run(tmp_path, program).strip() == "1"


def test_a_transposed_write_is_injective():
    verdict, model = verdict_of((SUITE / "dense_la_transpose" / "serial.cpp").read_text())
    assert verdict.parallel, verdict.dependence
    [owned] = verdict.owned  # B[j * m + i]: column i of rows of m elements
    assert (owned.base, owned.coordinate, model.render(owned.stride)) == ("B", 1, "m")
    assert "B: each iteration writes its own column (column i, rows of m elements)" in \
        verdict.facts


TEMPORARY = (
    "void steps(int n, int count, double* __restrict__ y) { double t = 0;\n"
    " for (int s = 0; s < count; ++s) {\n  y[0] += t;\n"
    "  for (int i = 1; i < n; ++i) { t = y[i]; y[i] = 2 * t; } } }\n"
)


def test_a_temporary_read_by_the_enclosing_loop_keeps_its_last_value(tmp_path):
    """t is assigned first in every iteration of the i loop and read by the s loop after
    it: lastprivate in the i loop (the s loop carries t and stays serial)."""
    plan = plan_region(TEMPORARY, 1, 10, "openmp")
    assert [d.line for d in plan.transformed] == [4] and [d.line for d in plan.serial] == [2]
    assert "the scalar t carries a value" in plan.serial[0].why
    inner, _ = verdict_over(TEMPORARY, "i")
    assert inner.lastprivates == ["t"] and not inner.privates
    assert "lastprivate(t)" in plan.source
    parallel = plan.source.replace("void steps(", "void steps_parallel(")
    program = "#include <cstdio>\n#include <initializer_list>\n" + TEMPORARY + parallel + (
        "int main() {\n  int same = 1;\n"
        "  for (int n : {0, 1, 2, 1000, 100001}) {\n"
        "    static double a[100001], b[100001];\n"
        "    for (int i = 0; i < n; ++i) a[i] = b[i] = (i % 13) * 0.25 - 1.0;\n"
        "    steps(n, 5, a); steps_parallel(n, 5, b);\n"
        "    for (int i = 0; i < n; ++i) same &= a[i] == b[i];\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n")
    for threads in (1, 2, 3):
        assert build_and_run(tmp_path, program, threads).strip() == "1"


def test_a_temporary_assigned_in_some_iterations_is_not_privatized():
    """Assigned only where y[i] > 0 and read in every iteration: the other iterations
    read the value an earlier iteration left."""
    source = TEMPORARY.replace("{ t = y[i]; y[i] = 2 * t; }",
                               "{ if (y[i] > 0) t = y[i]; y[i] = 2 * t; }")
    plan = plan_region(source, 1, 10, "openmp")
    assert plan.source is None and not plan.transformed
    assert [d.line for d in plan.serial] == [2, 4]
    assert all("the scalar t carries a value" in d.why for d in plan.serial)


LOADED = (
    "void gather(int n, const int* p, const double* u, double* v) {\n"
    " for (int i = 0; i < n; ++i) { int r = p[i]; v[i] = u[r] + u[i]; } }\n"
)


def test_subscripts_through_locals_are_bounded_when_the_locals_are_affine(tmp_path):
    life, _ = verdict_of((SUITE / "stencil_game_of_life" / "serial.cpp").read_text())
    assert life.parallel, life.dependence  # r = i + di, s = j + dj
    loaded, _ = verdict_of(LOADED)
    assert loaded.parallel, loaded.dependence  # r = p[i]: bounded by replaying the loop over p
    assert loaded.range_checks == [RangeCheck("v", "u", False)]
    # the check reads p[0..n) before the loop: u is touched at [min p, max p] and [0, n)
    program = guard_check_program(LOADED, "int n, const int* p, const double* u, double* v", (
        "int main() {\n  static double a[64]; static int near[8] = {0, 1, 2, 3, 4, 5, 6, 7},\n"
        "      far[8] = {0, 1, 2, 3, 4, 5, 6, 20};\n"
        "  std::printf(\"%d %d %d %d\\n\", check(8, near, a, a + 8), check(8, far, a, a + 8),\n"
        "              check(8, far, a, a + 21), check(0, far, a, a));\n}\n"))
    assert build_and_run(tmp_path, program).split() == ["1", "0", "1", "1"]
    nested, _ = verdict_of(LOADED.replace("int r = p[i];", "int r = p[p[i]];"))
    assert refusal(nested) == ("alias", "v/u")
    assert "may point to overlapping memory" in str(nested.dependence)
    assert "cannot be checked at run time" in str(nested.dependence)




@pytest.mark.parametrize(
    "problem, task, marker",
    [
        ("dense_la_transpose", "port this loop to Kokkos", "if (ellora_disjoint_4)"),
        ("transform_normalize", "port this loop to Kokkos", "Kokkos::Min<double>"),
        ("dense_la_gemm", "parallelize this loop with MPI", "MPI_LAND"),
        # scans are two-pass block scans on host threads (pass 1: each block scanned from its
        # own start; pass 2: the offset folded into the block's stored values)
        ("scan_exclusive_int", "port this loop to Kokkos", "the offset folded into the block"),
        ("scan_prefix_sum", "parallelize this loop with OpenMP", "#pragma omp barrier"),
        ("scan_exclusive_int", "parallelize this loop with OpenMP",
         "out[i] = ellora_run + out[i];"),
        ("scan_prefix_sum", "parallelize this loop with MPI", "MPI_Allgather(&ellora_mine"),
        ("reduce_argmin", "port this loop to Kokkos", "Kokkos::Min<ellora_key_t>"),
        ("stencil_game_of_life", "parallelize this loop with OpenMP", "if(ellora_disjoint_4"),
        ("reduce_argmin", "parallelize this loop with MPI", "MPI_Allgather(&ellora_mine"),
        ("search_find_first", "parallelize this loop with OpenMP", "reduction(min:ellora_first)"),
        ("sparse_la_spmv_csr", "port this loop to Kokkos", "ellora_drops"),
        ("sparse_la_jacobi_sweep", "parallelize this loop with MPI", "ellora_drops"),
        ("dense_la_lu_decomp", "parallelize this loop with OpenMP", "#pragma omp parallel for"),
        ("reduce_count_above", "port this loop to Kokkos", "ellora_count_update"),
        ("sparse_la_spmv_coo", "port this loop to Kokkos", "ellora_y_parts"),
        ("histogram_digit_counts", "parallelize this loop with OpenMP", "ellora_counts_parts"),
        ("geometry_closest_pair", "parallelize this loop with OpenMP", "schedule(static, 1)"),
        ("scan_running_max", "port this loop to Kokkos", "the offset folded into the block"),
        ("scan_running_max", "parallelize this loop with OpenMP", "ellora_blocks"),
        ("fft_radix2", "parallelize this loop with OpenMP", "start += len) {"),
        ("fft_radix2", "port this loop to Kokkos", "ellora_m * (len)"),
    ],
)
def test_the_agent_verifies_versioned_and_extremum_ports(make_services, tmp_path, problem,
                                                          task, marker):
    source, harness, meta = copy_suite_problem(tmp_path, problem)
    agent = {**FAST_AGENT["agent"], "timing_size": meta["timing_size"] // 4,
             "test_sizes": meta["check_sizes"][:3]}
    services = make_services(None, agent=agent)
    report = run_agent(services, task, source, harness, 1, len(source.read_text().splitlines()))
    assert report["status"] == "verified", report["status_reason"]
    assert report["change_origin"] == "transformation"
    assert marker in report["diff"]


def test_the_heat_example_keeps_its_step_loop_and_versions_the_grid_loops(make_services):
    from conftest import EXAMPLES

    services = make_services(None, agent={**FAST_AGENT["agent"], "timing_size": 20_000})
    report = run_agent(services, "parallelize this loop with OpenMP", EXAMPLES / "heat.cpp",
                       EXAMPLES / "heat.harness.cpp", 8, 15)
    assert report["status"] == "verified", report["status_reason"]
    assert len(re.findall(r"(?m)^\+ *#pragma omp parallel for", report["diff"])) == 2
    assert "if(ellora_disjoint_" in report["diff"]
    assert "kept serial" in report["plan"]["why"]


def test_same_index_through_offset_pointers_falls_back_to_serial(tmp_path):
    scale = ("void scale(int n, const double* u, double* v) {\n"
             "  for (int i = 0; i < n; ++i) v[i] = 2.0 * u[i] + 1.0;\n}\n")
    verdict, _ = verdict_of(scale)
    assert verdict.range_checks == [RangeCheck("v", "u", True)]  # one index: in place is safe
    parallel = rewrite_loop(verdict, "openmp").replace("scale(", "scale_parallel(")
    program = (
        "#include <cstdio>\n" + scale + parallel
        + "int main() {\n  const int n = 200000; static double a[n + 1], b[n + 1];\n"
        "  for (int i = 0; i <= n; ++i) a[i] = b[i] = i % 13;\n"
        "  scale(n, a, a + 1); scale_parallel(n, b, b + 1);\n"  # a recurrence: must be serial
        "  scale(n, a, a); scale_parallel(n, b, b);\n"  # in place: parallel and correct
        "  int same = 1;\n  for (int i = 0; i <= n; ++i) same &= a[i] == b[i];\n"
        "  std::printf(\"%d\\n\", same);\n}\n"
    )
    assert build_and_run(tmp_path, program).strip() == "1"


def test_a_histogram_with_a_reset_loop_ports_both_loops_to_kokkos(make_services, tmp_path):
    """Integer literals in atomic updates of wider counters must still compile."""
    source, harness, meta = copy_suite_problem(tmp_path, "histogram_bins")
    services = make_services(None, agent={**FAST_AGENT["agent"], "timing_size": 100_000,
                                          "test_sizes": meta["check_sizes"][:3]})
    report = run_agent(services, "port this loop to Kokkos", source, harness, 1, 12)
    assert report["status"] == "verified", report["status_reason"]
    # the reset loop, the privatized scatter over host-thread chunks and its merge
    assert report["diff"].count("Kokkos::parallel_for") == 3
    assert "ellora_counts_parts" in report["diff"]
    assert "Kokkos::atomic_add" in report["diff"]  # indices past the private limit


def test_a_vector_reference_and_a_pointer_to_doubles_may_overlap(tmp_path):
    source = ("#include <vector>\n"
              "void shift(std::vector<double>& out, const double* in, int n) {\n"
              "  for (int i = 1; i < n; ++i) out[i] = in[i - 1] * 2.0;\n}\n")
    verdict, _ = verdict_of(source)
    # a vector's storage may be what a pointer points into: the ranges are checked
    assert verdict.range_checks == [RangeCheck("out", "in", False)]
    parallel = rewrite_loop(verdict, "openmp").replace("shift(", "shift_parallel(")
    assert "ellora_apart(out.data()" in parallel
    program = (
        "#include <cstdio>\n" + source + parallel
        + "int main() {\n  std::vector<double> a(100001, 1.0), b(100001, 1.0);\n"
        "  for (int i = 0; i < 100001; ++i) a[i] = b[i] = i % 7;\n"
        "  shift(a, a.data(), 100001); shift_parallel(b, b.data(), 100001);\n"  # serial
        "  std::vector<double> c(100001, 3.0), d(100001, 3.0);\n"
        "  shift(a, c.data(), 100001); shift_parallel(b, d.data(), 100001);\n"  # parallel
        "  std::printf(\"%d\\n\", int(a == b));\n}\n"
    )
    assert build_and_run(tmp_path, program).strip() == "1"
