"""Dependence analysis: provable loops are classified; real dependences are refused by name.
Ordinary C++ (std::vector parameters, range-based loops, conditional counters, argmin and
last match, member access, pure helpers, local work lists) is ported and compiled, then run
against the serial loop at 1, 2 and 3 threads."""

import pytest
from ellora.tools.loops.cpp.header import NotCounted
from ellora.tools.loops.expr import Poly
from ellora.tools.loops.legality.verdict import ObjectCheck, RangeCheck, Scatter
from loop_support import (
    build,
    build_and_run_kokkos,
    build_kokkos,
    build_mpi,
    loop_nodes,
    refusal,
    region_source,
    run_on_ranks,
    run_on_threads,
    verdict_of,
)


def test_map_loop_is_parallel():
    verdict, model = verdict_of(
        "void f(int n, const float* x, float* y) {\n"
        "  for (int i = 0; i < n; ++i) { y[i] = 2 * x[i] + y[i]; }\n}"
    )
    assert verdict.parallel and verdict.pattern == "map" and model.written_bases() == ["y"]
    # two float pointers may overlap; at the same index the loop is safe even in place
    assert verdict.range_checks == [RangeCheck("y", "x", True)]


def test_sum_is_a_reduction_with_its_type():
    verdict, _ = verdict_of(
        "double f(int n, const double* x) { double s = 0;\n"
        "  for (int i = 0; i < n; i++) s += x[i];\n return s; }"
    )
    assert verdict.parallel and verdict.pattern == "reduction"
    assert [(r.name, r.operator, r.ctype.name) for r in verdict.reducers] == [
        ("s", "+", "double")
    ]


def test_temporary_assigned_first_is_private():
    verdict, _ = verdict_of(
        "void f(int n, const double* x, double* y) { double t;\n"
        "  for (int i = 0; i < n; ++i) { t = x[i] * 2; y[i] = t + 1; } }"
    )
    assert verdict.parallel and verdict.privates == ["t"] and not verdict.lastprivates


def test_row_major_nested_write_is_injective():
    verdict, model = verdict_of(
        "void f(int n, int m, double* a) {\n for (int i = 0; i < n; ++i)\n"
        "  for (int j = 0; j < m; ++j) a[i * m + j] = i + j; }"
    )
    assert verdict.parallel and [h.var for h in model.inner] == ["j"]
    [owned] = verdict.owned
    assert (owned.base, owned.stride, owned.coordinate) == ("a", Poly.symbol("m"), 0)


@pytest.mark.parametrize(
    "source, kind, subject, named",
    [
        (
            "void f(int n, double* a) { for (int i = 1; i < n; ++i) a[i] = a[i - 1] + a[i]; }",
            "carried_array", "a", "loop-carried dependence on a",
        ),
        (
            "void f(int n, const int* b, int* h) { for (int i = 0; i < n; ++i) h[b[i]] = i; }",
            "indirect_write", "h", "indirect or non-injective write h[b[i]]",
        ),
        (
            # h[b[i]] += 1 is now a scatter-add under a run-time check that h and the range
            # of b it reads are apart (test_scatter_transforms); with a nested load the
            # range cannot be computed before the loop, and h may overwrite the b it reads
            "void f(int n, const int* b, int* h) { for (int i = 0; i < n; ++i) h[b[b[i]]] += 1; }",
            "alias", "h/b", "h and b may point to overlapping memory",
        ),
        (
            ("void f(int n, const double* u, const int* p, double* v) {\n"
             " for (int i = 1; i < n - 1; ++i) v[i] = u[p[p[i]]] + u[i + 1]; }"),
            "alias", "v/u", "v and u may point to overlapping memory",
        ),
        (
            ("void f(int n, const double* x, double* y) { double t = 0;\n"
             " for (int i = 0; i < n; ++i) { y[i] = t; t = x[i]; } }"),
            "carried_scalar", "t", "the scalar t carries a value",
        ),
        (
            # s alone is an inclusive running sum (a scan); x[i + 1] = s then feeds the
            # next iteration's x[i]
            ("double f(int n, double* x) { double s = 0;\n"
             " for (int i = 0; i < n; ++i) { s += x[i]; x[i + 1] = s; } return s; }"),
            "carried_array", "x", "written at x[i + 1] and read at x[i]",
        ),
        (
            ("void f(int n, const int* __restrict__ x, int* __restrict__ a, int* __restrict__ b)"
             " {\n int s = 0; for (int i = 0; i < n; ++i) { a[i] = s; s += x[i]; b[i] = s; } }"),
            "carried_scalar", "s", "the scalar s carries a value",
        ),
        (
            "void g(double*); void f(int n, double* y) { for (int i = 0; i < n; ++i) g(y); }",
            "call", "g", "calls g()",
        ),
        (
            ("int f(int n, const int* x, int* y) { for (int i = 0; i < n; ++i) {\n"
             " if (x[i] == 0) return i; y[i] = 1; } return -1; }"),
            "exit", "return", "leaves the loop",
        ),
    ],
)
def test_dependences_are_refused_with_their_name(source, kind, subject, named):
    verdict, _ = verdict_of(source)
    assert refusal(verdict) == (kind, subject)
    assert named in str(verdict.dependence)


def test_a_loop_that_is_not_counted_is_named():
    parsed, [loop] = loop_nodes(
        "void f(int n, double* y) { for (int i = 1; i < n; i *= 2) y[i] = 0; }")
    with pytest.raises(NotCounted, match="i must step by a loop-invariant amount"):
        parsed.loop_model(loop)


def test_restrict_pointers_allow_a_stencil():
    verdict, _ = verdict_of(
        "void f(int n, const double* __restrict__ u, double* __restrict__ v) {\n"
        " for (int i = 1; i < n - 1; ++i) v[i] = 0.5 * (u[i - 1] + u[i + 1]); }"
    )
    assert verdict.parallel and not verdict.versioned


def test_histogram_updates_are_a_scatter_when_types_rule_out_aliasing():
    verdict, _ = verdict_of(
        "void f(int n, const double* x, int* h) {\n"
        " for (int i = 0; i < n; ++i) { int bin = (int)(x[i] * 10); h[bin]++; } }"
    )
    assert verdict.parallel and verdict.scatters == [Scatter("h", "+")]
    assert verdict.pattern == "scatter" and not verdict.versioned


def test_indirect_update_read_elsewhere_is_still_refused():
    verdict, _ = verdict_of(
        "void f(int n, const double* x, int* h) {\n"
        " for (int i = 0; i < n; ++i) { h[(int)x[i]] += h[0]; } }"
    )
    assert refusal(verdict) == ("carried_array", "h")


def test_interior_of_a_2d_grid_is_injective():
    verdict, _ = verdict_of(
        "void f(int n, const double* __restrict__ u, double* __restrict__ v) {\n"
        " for (int i = 1; i < n - 1; ++i)\n  for (int j = 1; j < n - 1; ++j)\n"
        "   v[i * n + j] = u[(i - 1) * n + j] + u[(i + 1) * n + j]; }"
    )
    assert verdict.parallel, verdict.dependence


@pytest.mark.parametrize("index", ["i + j", "i * m + j"])
def test_overlapping_writes_through_inner_variables_are_refused_or_a_scatter(index):
    source = (
        "void f(int n, int m, const double* __restrict__ x, double* __restrict__ y)"
        f" {{\n for (int i = 0; i < n; ++i)\n  for (int j = 0; j < 2 * m; ++j)\n"
        f"   y[{index}] OP x[j]; }}"
    )
    plain, _ = verdict_of(source.replace("OP", "="))
    assert refusal(plain) == ("indirect_write", "y")
    assert "non-injective write y" in str(plain.dependence)
    update, _ = verdict_of(source.replace("OP", "+="))
    assert update.parallel and update.scatters == [Scatter("y", "+")]


# ----- ordinary C++ ----------------------------------------------------------------------
def assert_equal_to_serial(tmp_path, prelude: str, functions: str, names, main: str,
                           threads=(1, 2, 3)) -> str:
    """Port ``functions`` to OpenMP, compile them beside the serial ones (each of ``names``
    renamed ``name_serial``) and ``main`` (which prints 1 when both agree), and run it on
    each thread count; the ported source is returned."""
    parallel = region_source(prelude + functions, 1, 10_000, "openmp")
    assert "#pragma omp" in parallel
    serial = functions
    for name in [names] if isinstance(names, str) else names:
        serial = serial.replace(f"{name}(", f"{name}_serial(")
    binary = build(tmp_path, parallel + serial + "#include <cstdio>\n" + main)
    for count in threads:
        assert run_on_threads(binary, count).strip() == "1", f"{count} threads"
    return parallel


VECTOR_SHIFT = """\
void shiftInto(std::vector<double>& y, std::vector<double>& x) {
  for (std::size_t i = 1; i < x.size(); ++i) y[i] = x[i - 1] * 2.0 + y[i];
}
"""


def test_two_vector_parameters_are_checked_for_being_one_object(tmp_path):
    verdict, _ = verdict_of("#include <vector>\n" + VECTOR_SHIFT)
    # distinct vectors never share storage at an offset: only "the same object" is checked
    assert verdict.parallel and verdict.object_checks == [ObjectCheck("y", "x")]
    assert not verdict.range_checks
    parallel = assert_equal_to_serial(tmp_path, "#include <vector>\n", VECTOR_SHIFT, "shiftInto", (
        "int main() {\n  int same = 1;\n"
        "  for (int n : {0, 1, 2, 1000, 100003}) {\n"
        "    std::vector<double> a(n), b(n), c(n), d(n);\n"
        "    for (int i = 0; i < n; ++i) a[i] = c[i] = i % 7, b[i] = d[i] = i % 5;\n"
        "    shiftInto(a, b); shiftInto_serial(c, d); same &= a == c && b == d;\n"
        "    shiftInto(a, a); shiftInto_serial(c, c); same &= a == c;\n"  # one object: serial
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"))
    assert "&y) != static_cast<const void*>(&x)" in parallel


@pytest.mark.parametrize("qualifier", ["__restrict__", "__restrict"])
def test_restricted_vector_references_are_never_checked(tmp_path, qualifier):
    """GCC's restricted references (outside tree-sitter's grammar) promise what the object
    check would test: the port has no check, builds and matches the serial loop."""
    restricted = VECTOR_SHIFT.replace("std::vector<double>& y", f"std::vector<double>& {qualifier} y")
    verdict, model = verdict_of("#include <vector>\n" + restricted)
    assert verdict.parallel and not verdict.versioned and model.bases["y"].distinct
    assert not model.bases["x"].distinct  # the promise is y's; one side is enough
    parallel = assert_equal_to_serial(tmp_path, "#include <vector>\n", restricted, "shiftInto", (
        "int main() {\n  int same = 1;\n"
        "  for (int n : {0, 1, 1000, 100003}) {\n"
        "    std::vector<double> a(n), b(n), c(n), d(n);\n"
        "    for (int i = 0; i < n; ++i) a[i] = c[i] = i % 7, b[i] = d[i] = i % 5;\n"
        "    shiftInto(a, b); shiftInto_serial(c, d); same &= a == c && b == d;\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"), threads=(2, 4))
    assert f"std::vector<double>& {qualifier} y" in parallel and "ellora_disjoint" not in parallel
    plain, _ = verdict_of("#include <vector>\n" + VECTOR_SHIFT.replace(
        "std::vector<double>& y", "std::vector<double>& /* out */ y"))
    assert plain.object_checks == [ObjectCheck("y", "x")]  # a comment promises nothing


def test_a_reduction_keeps_the_update_that_decides_its_operator():
    for loop, operator, update in (
            ("if (x[i] % 2 == 1 && x[i] < s) {\n      s = x[i];\n    }", "min",
             "if (x[i] % 2 == 1 && x[i] < s) s = x[i];"),
            ("s += std::min(x[i], 2.0 * x[i]);", "+", "s += std::min(x[i], 2.0 * x[i]);"),
            ("s = std::max(s, x[i]);", "max", "s = std::max(s, x[i]);"),
            ("if (x[i] > 0) ++s;", "+", "if (x[i] > 0) ++s;"),
            ("if (i % 2 == 0) {\n      int t = 1;\n      s += x[i] * t;\n    }", "+",
             "if (i % 2 == 0) s += x[i] * t;")):  # the other statements of the branch left out
        verdict, _ = verdict_of("#include <algorithm>\ndouble f(const double* x, int n) {\n"
                                f"  double s = 0;\n  for (int i = 0; i < n; ++i) {{\n    {loop}\n"
                                "  }\n  return s;\n}\n")
        assert [(r.name, r.operator, r.update) for r in verdict.reducers] == \
            [("s", operator, update)]


def test_an_unchanged_vector_is_never_checked():
    verdict, model = verdict_of(
        "#include <vector>\nvoid f(const std::vector<double>& x, std::vector<double>& y) {\n"
        "  for (int i = 0; i < (int)x.size(); ++i) y[i] = 2 * x[i];\n}\n")
    assert verdict.parallel and not verdict.versioned  # same index: safe even if one object
    assert model.header.upper_text == "(int)x.size()"


RANGE_LOOPS = """\
void squareAll(std::vector<double>& x) {
  for (auto& v : x) v = v * v + 1.0;
}
long sumAll(const std::vector<long>& x) {
  long s = 0;
  for (const auto& v : x) s += v;
  return s;
}
"""


def test_range_based_loops_over_references_are_ported(tmp_path):
    squares, model = verdict_of("#include <vector>\n" + RANGE_LOOPS, 0)
    assert squares.parallel and model.header.range_of == "x" and model.header.element == "v"
    total, _ = verdict_of("#include <vector>\n" + RANGE_LOOPS, 1)
    assert [(r.name, r.operator) for r in total.reducers] == [("s", "+")]
    assert_equal_to_serial(tmp_path, "#include <vector>\n", RANGE_LOOPS, ("squareAll", "sumAll"), (
        "int main() {\n  int same = 1;\n"
        "  for (int n : {0, 1, 3, 100003}) {\n"
        "    std::vector<double> a(n), b(n); std::vector<long> c(n);\n"
        "    for (int i = 0; i < n; ++i) a[i] = b[i] = (i % 9) * 0.5, c[i] = i % 11 - 5;\n"
        "    squareAll(a); squareAll_serial(b); same &= a == b;\n"
        "    same &= sumAll(c) == sumAll_serial(c);\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"))


COUNTING = """\
int countEven(const std::vector<int>& x) {
  int count = 0;
  for (int i = 0; i < (int)x.size(); ++i) {
    if (x[i] % 2 == 0) ++count;
  }
  return count;
}
"""


def test_a_counter_incremented_under_a_condition_is_a_reduction(tmp_path):
    verdict, _ = verdict_of("#include <vector>\n" + COUNTING)
    assert [(r.name, r.operator, r.ctype.name) for r in verdict.reducers] == [
        ("count", "+", "int")]
    parallel = assert_equal_to_serial(tmp_path, "#include <vector>\n", COUNTING, "countEven", (
        "int main() {\n  int same = 1;\n"
        "  for (int n : {0, 1, 2, 5, 100003}) {\n"
        "    std::vector<int> x(n); for (int i = 0; i < n; ++i) x[i] = (i * 37) % 101;\n"
        "    same &= countEven(x) == countEven_serial(x);\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"))
    assert "reduction(+:count)" in parallel


ARGMIN = """\
int closest(const std::vector<double>& x, double target) {
  double best = std::numeric_limits<double>::max();
  int idx = -1;
  for (int i = 0; i < (int)x.size(); ++i) {
    double d = (x[i] - target) * (x[i] - target);
    if (d < best) { best = d; idx = i; }
  }
  return idx;
}
int lastMatch(const std::vector<int>& x, int wanted) {
  int last = -1;
  for (int i = 0; i < (int)x.size(); ++i) {
    if (x[i] == wanted) last = i;
  }
  return last;
}
"""


def test_argmin_with_its_key_and_the_last_match_keep_the_serial_index(tmp_path):
    source = "#include <limits>\n#include <vector>\n" + ARGMIN
    argmin, _ = verdict_of(source, 0)
    assert argmin.pattern == "argmin" and (argmin.locate.index, argmin.locate.best) == (
        "idx", "best")
    last, _ = verdict_of(source, 1)
    assert last.pattern == "last match" and last.locate.index == "last"
    assert_equal_to_serial(tmp_path, "#include <limits>\n#include <vector>\n", ARGMIN,
                           ("closest", "lastMatch"), (
        "int main() {\n  int same = 1;\n"
        "  for (int n : {0, 1, 2, 7, 100003}) {\n"
        "    std::vector<double> x(n); std::vector<int> y(n);\n"
        "    for (int i = 0; i < n; ++i) x[i] = (i * 37) % 1000, y[i] = i % 17;\n"
        "    for (double t : {-5.0, 0.0, 499.5, 2000.0})\n"  # ties: many equal distances
        "      same &= closest(x, t) == closest_serial(x, t);\n"
        "    for (int w : {0, 16, 40}) same &= lastMatch(y, w) == lastMatch_serial(y, w);\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"))


LAST_MINIMUM = """\
int lastMinimum(const std::vector<double>& x) {
  int best = 0;
  for (int i = 0; i < (int)x.size(); ++i) {
    if (x[i] <= x[best]) best = i;
  }
  return best;
}
"""


def test_the_last_of_tied_minima_keyed_through_the_index_equals_serial(tmp_path):
    verdict, _ = verdict_of("#include <vector>\n" + LAST_MINIMUM)
    assert verdict.pattern == "argmin" and not verdict.locate.strict  # <=: the last minimum
    assert_equal_to_serial(tmp_path, "#include <vector>\n", LAST_MINIMUM, "lastMinimum", (
        "int main() {\n  int same = 1;\n"
        "  for (int n : {0, 1, 2, 7, 100003}) {\n"
        "    std::vector<double> x(n);\n"
        "    for (int i = 0; i < n; ++i) x[i] = (i * 37) % 1000;\n"
        "    same &= lastMinimum(x) == lastMinimum_serial(x);\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"))


MEMBERS = """\
struct Point { double x, y; };
static double squared(double v) { return v * v; }
double radius(const Point& p) { double r = squared(p.x) + squared(p.y); return r; }
void radii(const std::vector<Point>& pts, std::vector<double>& out) {
  for (std::size_t i = 0; i < pts.size(); ++i) out[i] = radius(pts[i]) + pts[i].x;
}
"""


def test_members_of_elements_and_pure_functions_of_the_file_are_parallel(tmp_path):
    verdict, model = verdict_of("#include <vector>\n" + MEMBERS)
    assert verdict.parallel, verdict.dependence
    assert model.header.upper_text == "pts.size()"
    assert {c.effect.kind for c in model.calls} == {"user_pure"}
    prelude = "#include <vector>\n" + MEMBERS.split("void radii")[0]
    function = "void radii" + MEMBERS.split("void radii")[1]
    assert_equal_to_serial(tmp_path, prelude, function, "radii", (
        "int main() {\n  int same = 1;\n"
        "  for (int n : {0, 1, 4, 100003}) {\n"
        "    std::vector<Point> p(n); std::vector<double> a(n), b(n);\n"
        "    for (int i = 0; i < n; ++i) p[i] = Point{(i % 13) * 0.5, (i % 7) - 3.0};\n"
        "    radii(p, a); radii_serial(p, b); same &= a == b;\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"))


def test_a_function_that_changes_a_global_is_not_pure():
    verdict, _ = verdict_of(
        "#include <vector>\nint calls = 0;\n"
        "static double counted(double v) { ++calls; return v * v; }\n"
        "void f(const std::vector<double>& x, std::vector<double>& y) {\n"
        "  for (std::size_t i = 0; i < x.size(); ++i) y[i] = counted(x[i]);\n}\n")
    assert refusal(verdict) == ("call", "counted")


@pytest.mark.parametrize(
    "declaration, update, subject",
    [
        ("std::map<int, int>& m", "m[x[i]] += 1;", "m"),  # operator[] inserts
        ("std::queue<int>& m", "m.push(x[i]);", "m"),  # a work list every iteration shares
    ],
)
def test_shared_containers_changed_in_the_loop_are_refused(declaration, update, subject):
    verdict, _ = verdict_of(
        "#include <map>\n#include <queue>\n#include <vector>\n"
        f"void f(const std::vector<int>& x, {declaration}) {{\n"
        f"  for (std::size_t i = 0; i < x.size(); ++i) {update}\n}}\n")
    assert refusal(verdict) == ("container", subject)
    assert "an object every iteration shares" in str(verdict.dependence)


WORK_LIST = """\
void halvings(int n, const std::vector<int>& x, std::vector<long>& out) {
  for (int i = 0; i < n; ++i) {
    std::queue<int> work;
    work.push(x[i]);
    long steps = 0;
    while (!work.empty()) {
      int v = work.front();
      work.pop();
      steps += v;
      if (v > 1) { work.push(v / 2); work.push(v / 3); }
    }
    out[i] = steps;
  }
}
"""


def test_a_work_list_declared_inside_the_loop_is_private(tmp_path):
    verdict, _ = verdict_of("#include <queue>\n#include <vector>\n" + WORK_LIST)
    assert verdict.parallel and verdict.pattern == "map", verdict.dependence
    assert_equal_to_serial(tmp_path, "#include <queue>\n#include <vector>\n", WORK_LIST,
                           "halvings", (
        "int main() {\n  int same = 1;\n"
        "  for (int n : {0, 1, 3, 20000}) {\n"
        "    std::vector<int> x(n); std::vector<long> a(n), b(n);\n"
        "    for (int i = 0; i < n; ++i) x[i] = (i * 31) % 200;\n"
        "    halvings(n, x, a); halvings_serial(n, x, b); same &= a == b;\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"))


KOKKOS_SUM = """\
double sumSquares(const std::vector<double>& x) {
  double s = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) s += x[i] * x[i];
  return s;
}
"""


def test_a_kokkos_reduction_over_a_const_vector_compiles_and_agrees(tmp_path):
    """const is kept: the port reaches the vector through a pointer to const."""
    parallel = region_source("#include <vector>\n" + KOKKOS_SUM, 1, 10_000, "kokkos")
    assert "Kokkos::parallel_reduce" in parallel
    program = parallel + KOKKOS_SUM.replace("sumSquares(", "sumSquares_serial(") + (
        "#include <cmath>\n#include <cstdio>\n"
        "int main(int argc, char** argv) {\n  Kokkos::ScopeGuard guard(argc, argv);\n"
        "  int same = 1;\n"
        "  for (int n : {0, 1, 5, 100003}) {\n"
        "    std::vector<double> x(n); for (int i = 0; i < n; ++i) x[i] = (i % 17) * 0.25;\n"
        "    const double a = sumSquares(x), b = sumSquares_serial(x);\n"
        "    same &= std::fabs(a - b) <= 1e-9 * (1 + std::fabs(b));\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n")
    assert build_and_run_kokkos(tmp_path, program).strip().splitlines()[-1] == "1"


def test_kokkos_ports_of_vector_code_keep_const_and_the_object_check(tmp_path):
    """Lambdas capture outer vectors through pointers (nothing copied, const kept); the
    object check runs the original loop when both references are one vector."""
    functions = VECTOR_SHIFT + RANGE_LOOPS + COUNTING
    parallel = region_source("#include <vector>\n" + functions, 1, 10_000, "kokkos")
    assert parallel.count("Kokkos::parallel_") == 4
    serial = functions
    for name in ("shiftInto", "squareAll", "sumAll", "countEven"):
        serial = serial.replace(f"{name}(", f"{name}_serial(")
    binary = build_kokkos(tmp_path, parallel + serial + (
        "#include <cstdio>\n"
        "int main(int argc, char** argv) {\n  Kokkos::ScopeGuard guard(argc, argv);\n"
        "  int same = 1;\n"
        "  for (int n : {0, 1, 2, 1000, 100003}) {\n"
        "    std::vector<double> a(n), b(n), c(n), d(n); std::vector<long> e(n);\n"
        "    std::vector<int> f(n);\n"
        "    for (int i = 0; i < n; ++i) a[i] = c[i] = i % 7, b[i] = d[i] = i % 5,\n"
        "                                e[i] = i % 11 - 5, f[i] = (i * 37) % 101;\n"
        "    shiftInto(a, b); shiftInto_serial(c, d); same &= a == c && b == d;\n"
        "    shiftInto(a, a); shiftInto_serial(c, c); same &= a == c;\n"
        "    squareAll(a); squareAll_serial(c); same &= a == c;\n"
        "    same &= sumAll(e) == sumAll_serial(e) && countEven(f) == countEven_serial(f);\n"
        "  }\n  std::printf(\"%d\\n\", same);\n}\n"))
    for threads in (1, 3):
        assert run_on_threads(binary, threads).strip().splitlines()[-1] == "1"


LAST_LARGEST = """\
long lastLargest(const std::vector<int>& x) {
  int top = x[0];
  long at = 0;
  for (long i = 1; i < (long)x.size(); ++i) {
    if (x[i] % 13 >= top) { top = x[i] % 13; at = i; }
  }
  return at;
}
"""


def test_mpi_ports_of_a_counter_and_an_argmin_agree_on_every_rank(tmp_path):
    """Ties across ranks: the first of equal keys for ``<``, the last for ``>=``."""
    functions = COUNTING + ARGMIN + LAST_LARGEST
    parallel = region_source("#include <limits>\n#include <vector>\n" + functions, 1, 10_000,
                             "mpi")
    assert "MPI_Allreduce" in parallel and parallel.count("MPI_Allgather(&ellora_mine") == 2
    serial = functions
    for name in ("countEven", "closest", "lastMatch", "lastLargest"):
        serial = serial.replace(f"{name}(", f"{name}_serial(")
    binary = build_mpi(tmp_path, parallel + serial + (
        "#include <cstdio>\n"
        "int main(int argc, char** argv) {\n  MPI_Init(&argc, &argv);\n"
        "  int same = 1, rank = 0;\n  MPI_Comm_rank(MPI_COMM_WORLD, &rank);\n"
        "  for (int n : {0, 1, 2, 7, 100003}) {\n"
        "    std::vector<int> y(n); std::vector<double> x(n);\n"
        "    for (int i = 0; i < n; ++i) y[i] = (i * 37) % 101, x[i] = (i * 37) % 1000;\n"
        "    same &= countEven(y) == countEven_serial(y);\n"
        "    for (double t : {-5.0, 499.5}) same &= closest(x, t) == closest_serial(x, t);\n"
        "    for (int w : {0, 40}) same &= lastMatch(y, w) == lastMatch_serial(y, w);\n"
        "    if (n > 0) same &= lastLargest(y) == lastLargest_serial(y);\n"
        "  }\n"
        "  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);\n"
        "  if (rank == 0) std::printf(\"%d\\n\", same);\n  MPI_Finalize();\n}\n"))
    for ranks in (1, 2, 3):
        assert run_on_ranks(binary, ranks).split() == ["1"], f"{ranks} ranks"
