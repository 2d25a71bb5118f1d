"""Loops the analysis could not prove parallel before: pointers that may overlap (checked at
run time), min/max reductions, ``i + 1 < n`` headers, transposed writes, and regions whose
outer loop is a time step. Transformed code is compiled and run against the serial code,
including with overlapping buffers, where the parallel version must fall back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import FAST_AGENT, REPO
from ellora.tools.cpp_syntax import loops_in_lines, parse_cpp
from ellora.tools.loop_analysis import analyze_loop
from ellora.tools.loop_plan import plan_region, rewrite_region
from ellora.tools.overlap import APART_HELPER, guard_declaration
from ellora.tools.transformations import to_openmp

SUITE = REPO / "evals" / "suites" / "builtin"
STENCIL = (
    "void smooth(int n, const double* u, double* v) {\n"
    "  for (int i = 1; i + 1 < n; ++i) {\n"
    "    v[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1];\n"
    "  }\n"
    "}\n"
)


def facts_of(source: str):
    loop = loops_in_lines(parse_cpp(source), 1, 10_000)[0]
    return analyze_loop(loop, source), loop


def build_and_run(tmp_path: Path, program: str, threads: int = 4) -> str:
    source = tmp_path / "main.cpp"
    source.write_text(program)
    binary = tmp_path / "main"
    subprocess.run(["g++", "-O2", "-fopenmp", "-o", str(binary), str(source)], check=True,
                   capture_output=True, text=True)
    done = subprocess.run([str(binary)], capture_output=True, text=True, check=True,
                          env={"OMP_NUM_THREADS": str(threads), "PATH": "/usr/bin:/bin"})
    return done.stdout


def copy_suite_problem(tmp_path: Path, problem: str) -> tuple[Path, Path, dict]:
    """serial.cpp and its harness copied into tmp_path, and the problem's metadata."""
    import tomllib

    folder = SUITE / problem
    source, harness = tmp_path / "serial.cpp", tmp_path / "serial.harness.cpp"
    source.write_text((folder / "serial.cpp").read_text())
    harness.write_text((folder / "serial.harness.cpp").read_text())
    return source, harness, tomllib.loads((folder / "problem.toml").read_text())


def run_agent(services, task: str, source: Path, harness: Path, first: int, last: int) -> dict:
    """The whole graph on lines first..last of source, as ellora-agent runs it."""
    from ellora.agents.runner import infer_target_model, new_task_id, run_task

    state = {
        "task_id": new_task_id(), "task": task, "target_model": infer_target_model(task),
        "file": str(source), "first_line": first, "last_line": last,
        "original": source.read_text(), "status": "running", "steps": [],
        "harness": str(harness),
    }
    return run_task(state, services, services.settings.state_dir / "checkpoints.sqlite")


def test_possibly_overlapping_pointers_get_a_run_time_check():
    facts, _ = facts_of(STENCIL)
    assert facts.parallel, facts.refusal
    assert facts.overlap_check["pairs"] == [["v", "u", False]]
    assert facts.canonical_condition.startswith("i < ")


def guard_check_program(source: str, signature: str, main: str) -> str:
    """A program whose ``bool check(signature)`` returns the run-time overlap check of the
    first loop of ``source``, followed by ``main``."""
    facts, _ = facts_of(source)
    assert facts.parallel, facts.refusal
    declaration = guard_declaration(facts.overlap_check, "ok", "  ")
    return (
        "#include <algorithm>\n#include <climits>\n#include <cstdint>\n#include <cstdio>\n"
        "#include <initializer_list>\n#include <limits>\n#include <type_traits>\n"
        + APART_HELPER + f"bool check({signature}) {{\n  " + declaration + "  return ok;\n}\n"
        + main
    )


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
    facts, loop = facts_of(STENCIL)
    parallel = to_openmp(STENCIL, loop, facts).source.replace("smooth(", "smooth_parallel(")
    assert "if(ellora_disjoint_2)" in parallel and "i < " in parallel
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
    facts, _ = facts_of(
        "#include <cmath>\n#include <algorithm>\n"
        f"double f(int n, const double* x) {{ double best = x[0];\n"
        f" for (int i = 0; i < n; ++i) {{ {body} }} return best; }}"
    )
    assert facts.parallel, facts.refusal
    assert [(r.variable, r.operator) for r in facts.reductions] == [("best", operator)]


@pytest.mark.parametrize(
    "body",
    [
        "if (x[i] <= x[best]) best = i;",  # the last index of the minimum: not handled
        "if (x[i] > best) best = x[i]; else best = 0;",
        "if (x[i] > best) best = x[i]; y[i] = best;",  # the running maximum is read
    ],
)
def test_updates_that_are_not_plain_extrema_stay_refused(body):
    facts, _ = facts_of(
        f"void f(int n, const double* x, double* __restrict__ y) {{ int best = 0;\n"
        f" for (int i = 0; i < n; ++i) {{ {body} }} }}"
    )
    assert not facts.parallel
    assert "best" in facts.refusal


def test_min_and_max_reductions_run_correctly_with_openmp(tmp_path):
    source = (SUITE / "transform_normalize" / "serial.cpp").read_text()
    rewrite = rewrite_region(source, 1, 10_000, "openmp")
    assert "reduction(min:lo) reduction(max:hi)" in rewrite.source
    assert len(rewrite.transformed) == 2
    parallel = rewrite.source.replace("void normalize(", "void normalize_parallel(")
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
    plan, _ = plan_region(source, 1, 10_000)
    assert [f.variable for f in plan.parallel] == ["i", "i"]
    assert [f.variable for f in plan.serial] == ["s"]
    assert "does not depend on s" in plan.serial[0].refusal
    rewrite = rewrite_region(source, 1, 10_000, "openmp")
    assert rewrite.source.count("#pragma omp parallel for") == 2
    assert "kept serial" in rewrite.left_serial[0]
    parallel = rewrite.source.replace("void heat1d(", "void heat1d_parallel(")
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
    inclusive, _ = facts_of((SUITE / "scan_prefix_sum" / "serial.cpp").read_text())
    exclusive, _ = facts_of((SUITE / "scan_exclusive_int" / "serial.cpp").read_text())
    assert (inclusive.scan["kind"], exclusive.scan["kind"]) == ("inclusive", "exclusive")
    both_sides, _ = facts_of(
        "void f(int n, const int* __restrict__ x, int* __restrict__ a, int* __restrict__ b) {\n"
        " int s = 0; for (int i = 0; i < n; ++i) { a[i] = s; s += x[i]; b[i] = s; } }"
    )
    assert not both_sides.parallel and "accumulated and also read" in both_sides.refusal


def test_argmin_and_find_first_return_the_serial_index_with_ties(tmp_path):
    argmin = (SUITE / "reduce_argmin" / "serial.cpp").read_text()
    find = (SUITE / "search_find_first" / "serial.cpp").read_text()
    assert analyze_loop(loops_in_lines(parse_cpp(argmin), 1, 99)[0], argmin).locate
    parallel_argmin = rewrite_region(argmin, 1, 99, "openmp").source.replace(
        "argMin(", "argMin_parallel(")
    parallel_find = rewrite_region(find, 1, 99, "openmp").source.replace(
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
    facts, _ = facts_of((SUITE / "dense_la_transpose" / "serial.cpp").read_text())
    assert facts.parallel, facts.refusal
    assert "B[j*m+i]: each iteration writes its own element" in facts.facts


def test_a_temporary_read_by_the_enclosing_loop_is_not_privatized():
    source = (
        "void f(int n, int steps, double* __restrict__ y) { double t = 0;\n"
        " for (int s = 0; s < steps; ++s) {\n  y[0] += t;\n"
        "  for (int i = 1; i < n; ++i) { t = y[i]; y[i] = 2 * t; } } }"
    )
    plan, _ = plan_region(source, 1, 10)
    assert not plan.parallel
    assert any("lastprivate" in f.refusal for f in plan.serial)


def test_subscripts_through_locals_are_bounded_when_the_locals_are_affine():
    facts, _ = facts_of((SUITE / "stencil_game_of_life" / "serial.cpp").read_text())
    assert facts.parallel, facts.refusal  # r = i + di, s = j + dj
    loaded, _ = facts_of(
        "void f(int n, const int* p, const double* u, double* v) {\n"
        " for (int i = 0; i < n; ++i) { int r = p[i]; v[i] = u[r] + u[i]; } }"
    )
    assert loaded.parallel, loaded.refusal  # r = p[i]: bounded by replaying the loop over p
    assert [load for _, load, _ in loaded.overlap_check["loads"]] == ["p[i]"]
    nested, _ = facts_of(
        "void f(int n, const int* p, const double* u, double* v) {\n"
        " for (int i = 0; i < n; ++i) { int r = p[p[i]]; v[i] = u[r] + u[i]; } }"
    )
    assert not nested.parallel
    assert "may point to overlapping memory" in nested.refusal
    assert "cannot be checked at run time" in nested.refusal


@pytest.mark.parametrize(
    "problem, task, marker",
    [
        ("dense_la_transpose", "port this loop to Kokkos", "if (ellora_disjoint_4)"),
        ("transform_normalize", "port this loop to Kokkos", "Kokkos::Min<double>"),
        ("dense_la_gemm", "parallelize this loop with MPI", "MPI_LAND"),
        ("scan_exclusive_int", "port this loop to Kokkos", "Kokkos::parallel_scan"),
        ("scan_prefix_sum", "parallelize this loop with OpenMP", "ellora_running_sums"),
        ("scan_exclusive_int", "parallelize this loop with OpenMP", "pass 1: the sum"),
        ("scan_prefix_sum", "parallelize this loop with MPI", "MPI_Exscan"),
        ("reduce_argmin", "port this loop to Kokkos", "Kokkos::Min<ellora_key_t>"),
        ("stencil_game_of_life", "parallelize this loop with OpenMP", "if(ellora_disjoint_4)"),
        ("reduce_argmin", "parallelize this loop with MPI", "MPI_MIN"),
        ("search_find_first", "parallelize this loop with OpenMP", "reduction(min:ellora_first)"),
        ("sparse_la_spmv_csr", "port this loop to Kokkos", "ellora_drops"),
        ("sparse_la_jacobi_sweep", "parallelize this loop with MPI", "ellora_drops"),
        ("dense_la_lu_decomp", "parallelize this loop with OpenMP", "#pragma omp parallel for"),
        ("reduce_count_above", "port this loop to Kokkos", "ellora_count_update"),
        ("sparse_la_spmv_coo", "port this loop to Kokkos", "ellora_y_parts"),
        ("histogram_digit_counts", "parallelize this loop with OpenMP", "ellora_counts_parts"),
        ("geometry_closest_pair", "parallelize this loop with OpenMP", "schedule(static, 1)"),
        ("scan_running_max", "port this loop to Kokkos", "ellora_replay"),
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
    assert report["diff"].count("+    #pragma omp parallel for") == 2
    assert "if(ellora_disjoint_" in report["diff"]
    assert "kept serial" in report["plan"]["why"]


def test_same_index_through_offset_pointers_falls_back_to_serial(tmp_path):
    scale = ("void scale(int n, const double* u, double* v) {\n"
             "  for (int i = 0; i < n; ++i) v[i] = 2.0 * u[i] + 1.0;\n}\n")
    facts, loop = facts_of(scale)
    assert facts.overlap_check["pairs"] == [["v", "u", True]]
    parallel = to_openmp(scale, loop, facts).source.replace("scale(", "scale_parallel(")
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
    facts, loop = facts_of(source)
    assert facts.overlap_check["address"] == {"out": "out.data()"}
    parallel = to_openmp(source, loop, facts).source.replace("shift(", "shift_parallel(")
    program = (
        "#include <cstdio>\n" + source + parallel
        + "int main() {\n  std::vector<double> a(100001, 1.0), b(100001, 1.0);\n"
        "  for (int i = 0; i < 100001; ++i) a[i] = b[i] = i % 7;\n"
        "  shift(a, a.data(), 100001); shift_parallel(b, b.data(), 100001);\n"
        "  std::printf(\"%d\\n\", int(a == b));\n}\n"
    )
    assert build_and_run(tmp_path, program).strip() == "1"
