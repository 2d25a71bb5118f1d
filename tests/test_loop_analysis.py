"""Dependence analysis: provable loops are classified; real dependences are refused by name."""

import pytest

from ellora.tools.cpp_syntax import loops_in_lines, parse_cpp
from ellora.tools.loop_analysis import analyze_loop


def facts_of(source: str):
    return analyze_loop(loops_in_lines(parse_cpp(source), 1, 10_000)[0], source)


def test_map_loop_is_parallel():
    facts = facts_of(
        "void f(int n, const float* x, float* y) {\n"
        "  for (int i = 0; i < n; ++i) { y[i] = 2 * x[i] + y[i]; }\n}"
    )
    assert facts.parallel and facts.pattern == "map" and facts.written_arrays == ["y"]


def test_sum_is_a_reduction_with_its_type():
    facts = facts_of(
        "double f(int n, const double* x) { double s = 0;\n"
        "  for (int i = 0; i < n; i++) s += x[i];\n return s; }"
    )
    assert facts.parallel
    assert [(r.variable, r.operator, r.type_name) for r in facts.reductions] == [
        ("s", "+", "double")
    ]


def test_temporary_assigned_first_is_private():
    facts = facts_of(
        "void f(int n, const double* x, double* y) { double t;\n"
        "  for (int i = 0; i < n; ++i) { t = x[i] * 2; y[i] = t + 1; } }"
    )
    assert facts.parallel and facts.private == ["t"]


def test_row_major_nested_write_is_injective():
    facts = facts_of(
        "void f(int n, int m, double* a) {\n for (int i = 0; i < n; ++i)\n"
        "  for (int j = 0; j < m; ++j) a[i * m + j] = i + j; }"
    )
    assert facts.parallel and facts.nested_depth == 2


@pytest.mark.parametrize(
    "source, named",
    [
        (
            "void f(int n, double* a) { for (int i = 1; i < n; ++i) a[i] = a[i - 1] + a[i]; }",
            "loop-carried dependence on a",
        ),
        (
            "void f(int n, const int* b, int* h) { for (int i = 0; i < n; ++i) h[b[i]] = i; }",
            "indirect or non-injective write h[b[i]]",
        ),
        (
            "void f(int n, const int* b, int* h) { for (int i = 0; i < n; ++i) h[b[i]] += 1; }",
            "h and b may point to overlapping memory",
        ),
        (
            "void f(int n, const double* u, const int* p, double* v) {\n"
            " for (int i = 1; i < n - 1; ++i) v[i] = u[p[p[i]]] + u[i + 1]; }",
            "v and u may point to overlapping memory",
        ),
        (
            "void f(int n, const double* x, double* y) { double t = 0;\n"
            " for (int i = 0; i < n; ++i) { y[i] = t; t = x[i]; } }",
            "the scalar t carries a value",
        ),
        (
            "double f(int n, double* x) { double s = 0;\n"
            " for (int i = 0; i < n; ++i) { s += x[i]; x[i + 1] = s; } return s; }",
            "s is accumulated and also read",
        ),
        (
            "void g(double*); void f(int n, double* y) { for (int i = 0; i < n; ++i) g(y); }",
            "calls g()",
        ),
        (
            "int f(int n, const int* x, int* y) { for (int i = 0; i < n; ++i) {\n"
            " if (x[i] == 0) return i; y[i] = 1; } return -1; }",
            "leaves the loop",
        ),
        ("void f(int n, double* y) { for (int i = 1; i < n; i *= 2) y[i] = 0; }", "must step by 1"),
    ],
)
def test_dependences_are_refused_with_their_name(source, named):
    facts = facts_of(source)
    assert not facts.parallel
    assert named in facts.refusal


def test_restrict_pointers_allow_a_stencil():
    facts = facts_of(
        "void f(int n, const double* __restrict__ u, double* __restrict__ v) {\n"
        " for (int i = 1; i < n - 1; ++i) v[i] = 0.5 * (u[i - 1] + u[i + 1]); }"
    )
    assert facts.parallel


def test_histogram_updates_become_atomic_when_types_rule_out_aliasing():
    facts = facts_of(
        "void f(int n, const double* x, int* h) {\n"
        " for (int i = 0; i < n; ++i) { int bin = (int)(x[i] * 10); h[bin]++; } }"
    )
    assert facts.parallel and facts.atomic_arrays == ["h"]
    assert facts.pattern.startswith("histogram")


def test_indirect_update_read_elsewhere_is_still_refused():
    facts = facts_of(
        "void f(int n, const double* x, int* h) {\n"
        " for (int i = 0; i < n; ++i) { h[(int)x[i]] += h[0]; } }"
    )
    assert not facts.parallel


def test_interior_of_a_2d_grid_is_injective():
    facts = facts_of(
        "void f(int n, const double* __restrict__ u, double* __restrict__ v) {\n"
        " for (int i = 1; i < n - 1; ++i)\n  for (int j = 1; j < n - 1; ++j)\n"
        "   v[i * n + j] = u[(i - 1) * n + j] + u[(i + 1) * n + j]; }"
    )
    assert facts.parallel, facts.refusal


@pytest.mark.parametrize("index", ["i + j", "i * m + j"])
def test_overlapping_writes_through_inner_variables_are_refused_or_atomic(index):
    source = (
        "void f(int n, int m, const double* __restrict__ x, double* __restrict__ y)"
        f" {{\n for (int i = 0; i < n; ++i)\n  for (int j = 0; j < 2 * m; ++j)\n"
        f"   y[{index}] OP x[j]; }}"
    )
    plain = facts_of(source.replace("OP", "="))
    assert not plain.parallel and "non-injective write y" in plain.refusal
    update = facts_of(source.replace("OP", "+="))
    assert update.parallel and update.atomic_arrays == ["y"]
