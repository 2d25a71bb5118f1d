"""The engine data set: library loops become free-standing kernels, variations compile,
duplicates and code close to the evaluation suites are left out, the engine's ports are kept
only when the differential test passes (a wrong port fails it), refusals keep the engine's
reasons, examples take the shapes the model meets (the agent's coder turns an agent-form
answer back into the port), and adapters export as GGUF LoRA files llama.cpp loads.
Real tree-sitter, g++, sandbox, engine and llama.cpp."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO
from ellora.agents.cli.main import main
from ellora.models.train.engine_dedup import (
    closest_reference,
    deduplicate,
    exact_key,
    leaks,
    load_references,
    shingles,
    split_of,
)
from ellora.models.train.engine_extract import ExtractReport, Kernel, extract_kernels
from ellora.models.train.engine_variants import (
    FOLDS,
    can_be_int,
    local_result,
    refold,
    rename,
    retype,
    sized,
    snake_name,
    to_vectors,
    variants,
)

LIBRARY_C = """\
#include "_hypre_parcsr_mv.h"

HYPRE_Int
hypre_VectorAxpy( HYPRE_Complex alpha, hypre_Vector *x, hypre_Vector *y )
{
   HYPRE_Complex *x_data = hypre_VectorData(x);
   HYPRE_Complex *y_data = hypre_VectorData(y);
   HYPRE_Int      size   = hypre_VectorSize(x);
   HYPRE_Int      i;
#if defined(HYPRE_USING_OPENMP)
   #pragma omp parallel for private(i) HYPRE_SMP_SCHEDULE
#endif
   for (i = 0; i < size; i++)
   {
      y_data[i] += alpha * x_data[i];
   }
   return hypre_error_flag;
}

HYPRE_Real
hypre_VectorNorm( hypre_Vector *x )
{
   HYPRE_Complex *data = hypre_VectorData(x);
   HYPRE_Int      size = hypre_VectorSize(x);
   HYPRE_Real     result = 0.0, t;
   HYPRE_Int      i;
   for (i = 0; i < size; i++)
   {
      t = hypre_abs(data[i]);
      result = hypre_max(result, t);
   }
   return result;
}

void prefix( HYPRE_Int n, HYPRE_Real *a )
{
   HYPRE_Int i;
   for (i = 1; i < n; i++)
   {
      a[i] += a[i - 1];
   }
}

void table( HYPRE_Int n, HYPRE_Real *a )
{
   HYPRE_Real w[4];
   HYPRE_Int i;
   for (i = 0; i < n; i++) { a[i] *= w[i % 4]; }
}

void members( hypre_Vector *x, HYPRE_Int n )
{
   HYPRE_Int i;
   for (i = 0; i < n; i++) { x->data[i] = 0.0; }
}

void calls( HYPRE_Int n, HYPRE_Real *a )
{
   HYPRE_Int i;
   for (i = 0; i < n; i++) { a[i] = hypre_Rand(); }
}
"""


@pytest.fixture(scope="module")
def kernels():
    report = ExtractReport()
    found = extract_kernels(LIBRARY_C, report)
    return {k.function: k for k in found}, report


def test_library_loops_become_kernels_with_mapped_types_and_counters(kernels):
    found, report = kernels
    axpy = found["hypre_VectorAxpy"].source
    assert "void hypre_VectorAxpy(double alpha, const double* x_data, double* y_data, " \
        "int size)" in axpy
    assert "for (int i = 0; i < size; i++)" in axpy and "hypre_" not in axpy.split("(")[1]
    norm = found["hypre_VectorNorm"].source
    assert norm.startswith("#include <cmath>\n#include <algorithm>")
    assert "double hypre_VectorNorm(const double* data, int size, double result)" in norm
    assert "double t = 0;" in norm and "std::max(result, t)" in norm and "std::abs(data[i])" in norm
    assert norm.rstrip().endswith("return result;\n}")
    assert "void table(int n, double* a, const double* w)" in found["table"].source  # no
    # uninitialized local array: the caller passes its values
    assert report.loops == 6 and report.kept == 4
    assert report.reasons == {"a struct member": 1, "a call to ...": 1}


def test_variants_rename_retype_and_take_vectors(kernels):
    from ellora.models.train.engine_data import syntax_check

    axpy = kernels[0]["hypre_VectorAxpy"]
    renamed = rename(axpy.source, axpy.name, "vector_axpy", random.Random(1))
    assert "hypre_VectorAxpy" not in renamed and "vector_axpy(" in renamed
    assert exact_key(renamed) == exact_key(axpy.source)  # same code up to names
    floats = retype(axpy.source, "double", "float")
    assert "float alpha" in floats and "double" not in floats
    vectors = to_vectors(axpy.source, axpy.name, "east")
    assert "std::vector<double> const& x_data" in vectors and "std::vector<double>& y_data" in vectors
    assert can_be_int(axpy.source) and not can_be_int(kernels[0]["hypre_VectorNorm"].source)
    made = variants(axpy, random.Random(3), 3)
    assert made[0].how == "base" and len({v.source for v in made}) == len(made) == 4
    assert all(syntax_check([v.source for v in made]))
    assert snake_name("hypre_CSRMatrixMatvecHost_loop3") == "csr_matrix_matvec_host_3"


def test_variants_read_sizes_from_vectors_and_declare_the_accumulator(kernels):
    from ellora.models.train.engine_data import syntax_check

    axpy = to_vectors(kernels[0]["hypre_VectorAxpy"].source, "hypre_VectorAxpy")
    declared, inline = (sized(axpy, "hypre_VectorAxpy", random.Random(seed)) for seed in (0, 1))
    assert "void hypre_VectorAxpy(double alpha, const std::vector<double>& x_data, " \
        "std::vector<double>& y_data) {" in declared + inline
    assert "int size = " in declared and "i < size;" in declared
    assert "i < x_data.size()" in inline or "i < y_data.size()" in inline
    assert "int size" not in inline
    # a size that bounds no loop over a vector, or that the body changes, stays a parameter
    assert sized("void f(std::vector<double>& a, int n) { for (int i = 0; i < n; i++) "
                 "a[0] += i; }", "f", random.Random(0)) is None
    assert sized("void f(std::vector<double>& a, int n) { n--; for (int i = 0; i < n; i++) "
                 "a[i] = 0; }", "f", random.Random(0)) is None
    norm = local_result(kernels[0]["hypre_VectorNorm"].source, "hypre_VectorNorm")
    assert "double hypre_VectorNorm(const double* data, int size) {" in norm
    assert "double result = std::numeric_limits<double>::lowest();" in norm
    assert norm.startswith("#include <limits>")
    total = local_result("double f(const double* a, int n, double s) {\n  for (int i = 0; "
                         "i < n; i++) s += a[i];\n  return s;\n}", "f")
    assert total.startswith("double f(const double* a, int n) {\n  double s = 0;\n")
    least = local_result("int f(const int* a, int n, int m) { for (int i = 0; i < n; i++) "
                         "if (a[i] < m) m = a[i]; return m; }", "f")
    assert "int m = std::numeric_limits<int>::max();" in least
    # a start value the updates do not say, or no returned parameter: no variant
    assert local_result("double f(const double* a, int n, double s) { for (int i = 0; i < n; "
                        "i++) s = a[i] * s + 1; return s; }", "f") is None
    assert local_result(kernels[0]["prefix"].source, "prefix") is None
    # the start value is the engine's reading of the loop: an assigned product and a flag
    # set to one literal are reductions; a counter that also places elements is a count
    # (the engine refuses that loop for the placement, not for the count)
    product = local_result("double f(const double* a, int n, double p) { for (int i = 0; "
                           "i < n; i++) p = p * a[i]; return p; }", "f")
    assert "double p = 1;" in product
    flag = local_result("bool f(const int* a, int n, bool seen) { for (int i = 0; i < n; "
                        "i++) if (a[i] < 0) seen = true; return seen; }", "f")
    assert "bool seen = false;" in flag
    placed = local_result("int f(const int* a, int n, int* out, int k) { for (int i = 0; "
                          "i < n; i++) if (a[i] > 0) out[k++] = a[i]; return k; }", "f")
    assert "int k = 0;" in placed
    assert all(syntax_check([declared, inline, norm, total, least, product, flag, placed]))


def test_syntax_check_names_the_kernels_that_fail():
    from ellora.models.train.engine_data import syntax_check

    good = "void f(int n, double* a) { for (int i = 0; i < n; i++) a[i] = 1; }"
    bad = "void f(int n, double* a) { for (int i = 0; i < n; i++) a[i] = undefined_name; }"
    assert syntax_check([good, bad, good, bad], batch=3) == [True, False, True, False]


def test_duplicates_leaks_and_splits(tmp_path):
    a = "void f(int n, double* y, const double* x) { for (int i = 0; i < n; i++) y[i] = 2 * x[i]; }"
    b = a.replace("f(", "g(").replace("y", "out").replace("x", "in")  # renamed copy
    c = a.replace("2 * x[i]", "2 * x[i] + 1")  # near copy
    d = "int h(int n, const int* v) { int s = 0; for (int k = n; k > 0; k--) s ^= v[k - 1] << 2; " \
        "return s; }"
    result = deduplicate([a, b, c, d], threshold=0.6)
    assert result.kept == [0, 3] and result.exact == {1: 0} and result.near[2][0] == 0
    references = load_references(None, REPO)
    dot = ("double dot(int n, const double* x, const double* y) { double r = 0.0;\n"
           "  for (int i = 0; i < n; ++i) {\n    r += x[i] * y[i];\n  }\n  return r; }")
    hit = closest_reference(shingles(dot), references)
    assert hit.origin == "builtin" and hit.name.startswith("reduce_dot/") and leaks(hit)
    assert not leaks(closest_reference(shingles(d), references))
    assert split_of("hypre/src/a.c") == split_of("hypre/src/a.c")
    splits = [split_of(f"pkg/file{i}.c") for i in range(2000)]
    assert 0.85 < splits.count("train") / 2000 < 0.95 and splits.count("test") > 40


def test_openmp_ports_drop_the_size_threshold_only():
    from ellora.models.train.engine_ports import present, without_min_trip

    line = ("  #pragma omp parallel for schedule(static) reduction(+:s) "
            "if((long long)(x.size()) - (long long)(0) >= ELLORA_MIN_PARALLEL_TRIP)")
    assert without_min_trip(line) == "  #pragma omp parallel for schedule(static) reduction(+:s)"
    guarded = "#pragma omp parallel for if(ok_3 && (long long)(n) - (long long)(0) >= " \
        "ELLORA_MIN_PARALLEL_TRIP)"
    assert without_min_trip(guarded) == "#pragma omp parallel for if(ok_3)"
    from ellora.tools.loops.emit.openmp import MIN_TRIP_HELPER

    source = f"#include <vector>\n\n{MIN_TRIP_HELPER}\nvoid f() {{\n{line}\n  for (;;) {{}}\n}}\n"
    shown = present(source, "openmp")
    assert "ELLORA_MIN_PARALLEL_TRIP" not in shown and "reduction(+:s)\n" in shown
    assert present(source, "kokkos") == source  # Kokkos keeps its guard (see present)


AXPY = """\
void axpy(double alpha, const double* x, double* y, int n) {
  for (int i = 0; i < n; i++) {
    y[i] += alpha * x[i];
  }
}
"""
RUNNING = """\
double running(int n, const double* x, double* y) {
  double s = 0.0;
  for (int i = 0; i < n; i++) {
    s = 0.5 * s + x[i];
    y[i] = s;
  }
  return s;
}
"""

NORM1 = """\
#include <cmath>

double norm1(const double* x, int n, double total) {
  for (int i = 0; i < n; i++) {
    total += std::abs(x[i]);
  }
  return total;
}
"""


@pytest.fixture(scope="module")
def verifier(tmp_path_factory):
    from ellora.models.train.engine_ports import Verifier

    return Verifier(tmp_path_factory.mktemp("verify"))


def test_a_port_is_kept_only_when_the_test_passes(verifier):
    from ellora.models.train.engine_ports import port_kernel

    harness = verifier.harness(AXPY, "axpy")
    result = port_kernel(AXPY, "axpy", "openmp", verifier, harness)
    assert result.outcome == "port" and result.patterns == ["map"]
    assert "#pragma omp parallel for" in result.port and "MIN_PARALLEL" not in result.port
    assert result.port.count("for (int i") == 1  # the serial branch for small n folded away
    assert result.test.startswith("harness, 5 sizes")
    wrong = result.port.replace("y[i] += alpha * x[i];", "y[i] += alpha * x[i + 1 < n ? i : 0];")
    passed, why, _ = verifier.check(AXPY, wrong, "openmp", harness)
    assert not passed and why.startswith("test failed")
    refused = port_kernel(RUNNING, "running", "openmp", verifier, verifier.harness(RUNNING,
                                                                                 "running"))
    assert refused.outcome == "refusal" and refused.port == ""
    assert "carries a value from one iteration to the next" in refused.reason


def test_a_specialized_port_passes_the_same_test(verifier):
    """The accumulator made a local on both sides: the port still passes the differential
    test against the kernel (a harness synthesized for the new signature)."""
    from ellora.models.train.engine_formats import specialized
    from ellora.models.train.engine_ports import port_kernel

    record = _record(NORM1, "norm1", port_kernel(NORM1, "norm1", "openmp", verifier,
                                                 verifier.harness(NORM1, "norm1")))
    assert record["outcome"] == "port" and record["patterns"] == ["reduction"]
    made = specialized(record)
    assert made["variant"] == "base+local(specialized)"
    assert "double norm1(const double* x, int n) {\n  double total = 0;" in made["kernel"]
    assert "double total = 0;" in made["port"] and "reduction(+:total)" in made["port"]
    passed, why, _ = verifier.check(made["kernel"], made["port"], "openmp",
                                    verifier.harness(made["kernel"], "norm1"))
    assert passed, why
    assert specialized({**record, "outcome": "refusal"}) is None
    assert specialized(_record(AXPY, "axpy", port_kernel(AXPY, "axpy", "openmp", None,
                                                         None))) is None


def test_a_returned_sum_folds_with_each_other_operator():
    from ellora.models.train.engine_data import syntax_check

    folded = {fold: refold(NORM1, "norm1", fold, random.Random(0)) for fold in FOLDS}
    assert "total *= std::abs(x[i]);" in folded["product"]
    assert "if (std::abs(x[i]) > total) { total = std::abs(x[i]); }" in folded["max"]
    assert "if (std::abs(x[i]) < total) { total = std::abs(x[i]); }" in folded["min"]
    assert folded["count"].count("int") >= 3 and "{ ++total; }" in folded["count"]
    assert "int norm1(const double* x, int n, int total) {" in folded["count"]
    assert "bool norm1(const double* x, int n, bool total) {" in folded["any"]
    assert "total = total || (std::abs(x[i]) " in folded["any"]
    assert "total = total && (std::abs(x[i]) " in folded["all"]
    assert "total ^= (std::abs(x[i]) " in folded["xor"]
    assert all(syntax_check(list(folded.values())))
    # the identity each fold starts from once the accumulator is a local
    starts = {fold: local_result(source, "norm1") for fold, source in folded.items()}
    assert "double total = 1;" in starts["product"]
    assert "double total = std::numeric_limits<double>::lowest();" in starts["max"]
    assert "double total = std::numeric_limits<double>::max();" in starts["min"]
    assert "int total = 0;" in starts["count"]
    assert "bool total = false;" in starts["any"] and "bool total = true;" in starts["all"]
    assert "bool total = false;" in starts["xor"]
    # a running minimum (unbraced under an if) folds too, into a sum among others
    least = ("double f(const double* a, int n, double m) {\n  for (int i = 0; i < n; i++)\n"
             "    if (a[i] < m) m = a[i];\n  return m;\n}\n")
    assert "    { m += a[i]; }\n" in refold(least, "f", "sum", random.Random(0))
    assert "m = std::max(m, a[i]);" not in refold(least.replace(
        "if (a[i] < m) m = a[i];", "m = std::min(a[i], m);"), "f", "max", random.Random(0))
    assert "{ if (a[i] > m) { m = a[i]; } }" in refold(least.replace(
        "if (a[i] < m) m = a[i];", "m = std::min(a[i], m);"), "f", "max", random.Random(0))
    # no fold: the sum read elsewhere, updated twice, a value with side effects, no return
    head = "double f(const double* a, int n, double s) { for (int i = 0; i < n; i++) "
    for kernel in (head + "{ s += a[i]; a[i] = s; } return s; }",
                   head + "{ s += a[i]; s += 1; } return s; }",
                   head.replace("const ", "") + "{ s += a[i]++; } return s; }",
                   head.replace("double f", "void f") + "{ s += a[i]; } }"):
        assert refold(kernel, "f", "max", random.Random(0)) is None
    made = variants(Kernel("norm1", NORM1, "norm1", 1, 7), random.Random(0), count=0, folds=3)
    kinds = [v.how.split("+")[-2] for v in made[1:]]
    assert len(made) == 4 and len(set(kinds)) == 3 and set(kinds) <= set(FOLDS)
    assert all("std::vector<double>" in v.source and v.how.endswith("+local")
               for v in made[1:])


@pytest.mark.parametrize("fold, clause", [("max", "reduction(max:total)"),
                                          ("any", "reduction(||:total)"),
                                          ("count", "reduction(+:total)")])
def test_a_folded_kernel_is_ported_with_its_operator_and_passes_the_test(verifier, fold,
                                                                        clause):
    from ellora.models.train.engine_ports import port_kernel

    kernel = local_result(refold(NORM1, "norm1", fold, random.Random(0)), "norm1")
    result = port_kernel(kernel, "norm1", "openmp", verifier, verifier.harness(kernel, "norm1"))
    assert result.outcome == "port", result.reason
    assert clause in result.port and result.patterns == ["reduction"]


def test_a_time_budget_runs_cached_candidates_then_the_steps_asked_first(tmp_path):
    from ellora.models.train.engine_data import Candidate, ResultCache, run_order

    made = [Candidate(f"k{n}:{how}", "f", "", how, {}) for n, how in
            enumerate(("base", "vector+max+local", "rename", "vector+size+count+local",
                       "base", "rename+vector"))]
    cache = ResultCache(tmp_path / "results.jsonl")
    cache.add({"id": "k4:base", "target": "openmp", "outcome": "port"})
    assert [c.id for c in run_order(made, cache, ["max", "count"])] == [
        "k4:base", "k1:vector+max+local", "k3:vector+size+count+local", "k0:base",
        "k2:rename", "k5:rename+vector"]
    assert run_order(made, ResultCache(tmp_path / "none.jsonl"), []) == made


def _record(kernel: str, name: str, result) -> dict:
    return {"id": "lib/f.c:1:base", "name": name, "variant": "base", "kernel": kernel,
            "package": "lib", "version": "1", "library": "lib", "license": "MIT",
            "file": "f.c", "function": name, "line": 1, "end_line": 5,
            **result.to_dict()}


def test_forms_the_eval_and_the_agent_read_back(verifier, make_services):
    from ellora.agents.coder import coder
    from ellora.evals.prompts import GENERATION, SYSTEM, extract_code
    from ellora.models.scripted import ScriptedModel
    from ellora.models.train.engine_formats import (
        agent_example,
        agent_state,
        dressed,
        explain_example,
        pareval_example,
        refusal_example,
        translate_example,
    )
    from ellora.models.train.engine_ports import port_kernel

    vectors = to_vectors(AXPY, "axpy", "east")
    record = _record(vectors, "axpy", port_kernel(vectors, "axpy", "openmp", verifier,
                                                  verifier.harness(vectors, "axpy")))
    example = pareval_example(record, with_system=True)
    assert example.context == SYSTEM and example.question.startswith(
        GENERATION.split("{function}")[0] + "axpy")
    assert "// Serial implementation of axpy\n// /* A loop of axpy in lib (f.c)." in example.question
    assert "// OpenMP implementation of axpy\n#include <omp.h>\n\n/* " in example.question
    assert "Use OpenMP to compute in parallel.\n*/\nvoid axpy(double alpha, " \
        "std::vector<double> const& x, std::vector<double>& y, int n) {\n\n```" in example.question
    prompt = example.question.split("```cpp\n", 1)[1].rsplit("```", 1)[0]
    assembled = prompt + extract_code(example.answer)  # what the evaluation compiles
    assert assembled.count("{") == assembled.count("}") and "#pragma omp parallel for" in assembled
    assert pareval_example(record, with_system=False).context == ""
    assert translate_example(record, True).answer.strip("`\ncp").startswith("#include <vector>")
    state = {**agent_state(record), "task_id": "t", "attempts": 0,
             "plan": {**agent_state(record)["plan"], "strategy": "model"}}
    model = ScriptedModel(replies=[explain_example(record, True).answer.split("\n")[0],
                                   agent_example(record, True).answer])
    services = make_services(model)
    services.settings.agent.max_fix_attempts = 1
    first = coder(state, services)  # "Yes." has no code: the coder asks again
    assert first.goto == "coder"
    second = coder({**state, **first.update}, services)
    assert second.goto == "tester"
    strip = lambda s: [l for l in s.splitlines() if l.strip()]
    assert strip(second.update["candidate"]) == strip(record["port"])
    # the kernel laid out as a user's file (includes, a doc comment, tabs): the answer still
    # turns it into the port laid out the same way, and that port passes the same test
    for seed in range(40):
        laid_out = dressed(record, random.Random(seed))
        if laid_out["kernel"].count("#include") > 4 and "/* A loop of" in laid_out["kernel"] \
                and "\t" in laid_out["kernel"]:
            break
    assert "\t#pragma omp parallel for" in laid_out["port"]
    state = {**agent_state(laid_out), "task_id": "t", "attempts": 0,
             "plan": {**agent_state(laid_out)["plan"], "strategy": "model"}}
    assert state["first_line"] > 6
    services = make_services(ScriptedModel(replies=[agent_example(laid_out, True).answer]))
    done = coder(state, services)
    assert done.goto == "tester" and strip(done.update["candidate"]) == strip(laid_out["port"])
    passed, why, _ = verifier.check(laid_out["kernel"], laid_out["port"], "openmp",
                                    verifier.harness(laid_out["kernel"], "axpy"))
    assert passed, why
    refused = _record(RUNNING, "running", port_kernel(RUNNING, "running", "openmp", None, None))
    refusal = refusal_example(refused, with_system=False)
    assert refusal.answer.startswith("Kept serial: the loop at line 3: ") and "```" not in \
        refusal.answer


def _dataset_rows(library: Path, out: Path, work: Path, *settings: str) -> list[dict]:
    """Every example row of the OpenMP data set built from ``library`` without variations,
    with ``settings`` (``--set`` values) on top."""
    args = ["train", "dataset", "--from-engine", str(library), "--output", str(out),
            "--work", str(work), "--targets", "openmp",
            "--set", "train.engine.variants_per_kernel=0", "--set", "train.engine.fold_variants=0"]
    for setting in settings:
        args += ["--set", setting]
    assert main(args) == 0
    return [json.loads(line) for split in ("train", "validation", "test")
            for line in (out / f"{split}.jsonl").read_text().splitlines()]


def test_cli_builds_a_data_set_from_a_folder(tmp_path, capsys):
    library = tmp_path / "mylib"
    library.mkdir()
    (library / "kernels.c").write_text(LIBRARY_C)
    output = tmp_path / "data"
    code = main(["train", "dataset", "--from-engine", str(library), "--output", str(output),
                 "--work", str(tmp_path / "work"), "--targets", "openmp", "--license", "MIT",
                 "--set", "train.engine.variants_per_kernel=0",
                 "--set", "train.engine.fold_variants=0"])
    assert code == 0
    report = json.loads((output / "report.json").read_text())
    assert report["kernels"] == 4 and report["unique_kernels"] == 4
    # the two maps over two pointers run after a run-time overlap test; each is also
    # remade with __restrict__ parameters (a twin the engine ports without the test)
    assert report["restrict_twins"] == {"openmp": 2}
    assert report["outcomes"] == {"openmp:port": 5, "openmp:refusal": 1}
    assert report["ports_by_pattern"] == {"openmp:map": 4, "openmp:reduction": 1}
    records = [json.loads(l) for l in (output / "records.jsonl").read_text().splitlines()]
    assert {r["license"] for r in records} == {"MIT"} and all(r["file"] == "kernels.c"
                                                              for r in records)
    rows = [json.loads(l) for s in ("train", "validation", "test")
            for l in (output / f"{s}.jsonl").read_text().splitlines()]
    assert {r["form"] for r in rows} >= {"pareval", "refusal"}
    rows_without_notes = rows  # reduction_notes is off by default
    checked = {r["id"] for r in records if "ellora_disjoint" in r.get("port", "")}
    assert len(checked) == 2 and all(r["form"] == "explain" for r in rows if r["id"] in checked)
    twins = [r for r in rows if r["id"].endswith("+restrict") and r["form"] == "pareval"]
    assert {r["id"] for r in twins} == {f"{i}+restrict" for i in checked}
    assert all("__restrict__" in r["question"] and "never share storage" in r["question"]
               for r in twins)
    assert not any("ellora_" in r["answer"] for r in rows if r["form"] != "explain")
    assert len({r["id"].split(":")[0] + r["file"] for r in rows}) == 1  # one file, one split
    rerun = main(["train", "dataset", "--from-engine", str(library), "--output", str(output),
                  "--work", str(tmp_path / "work"), "--targets", "openmp",
                  "--set", "train.engine.variants_per_kernel=0",
                  "--set", "train.engine.fold_variants=0"])
    assert rerun == 0  # resumed from the cache
    by_pattern = {}
    for balance in ("0", "1.0"):  # the one reduction port against four maps (two twins)
        train = _dataset_rows(library, tmp_path / f"balanced-{balance}", tmp_path / "work",
                              "train.engine.validation_share=0", "train.engine.test_share=0",
                              f"train.engine.balance_patterns={balance}")
        by_pattern[balance] = Counter(r["patterns"][0] for r in train
                                      if r["form"] == "pareval" and r["patterns"])
    assert by_pattern["0"]["reduction"] >= 1
    assert by_pattern["1.0"]["reduction"] == 4 * by_pattern["0"]["reduction"]
    assert by_pattern["1.0"]["map"] == by_pattern["0"]["map"]
    shown = {}  # the reduction port, with its accumulator passed in or made a local
    for share in ("0", "1.0"):
        out = tmp_path / f"specialized-{share}"
        rows = _dataset_rows(library, out, tmp_path / "work", "train.engine.reduction_notes=true",
                             f"train.engine.specialize_share={share}")
        shown[share] = [r for r in rows if r["form"] == "pareval" and
                        r["patterns"] == ["reduction"]]
        assert json.loads((out / "report.json").read_text())["specialized_ports"] == \
            (1 if share != "0" else 0)
    assert all("double result)" in r["question"] for r in shown["0"])
    assert all("double result)" not in r["question"] and r["variant"].endswith("(specialized)")
               and "double result = std::numeric_limits<double>::lowest();" in r["answer"]
               for r in shown["1.0"]) and shown["1.0"]
    # with reduction_notes: the update that decides the operator, right above its clause
    assert any("reduction(max:result)" in r["answer"] for r in rows_without_notes)
    assert not any("=> reduction(" in r["answer"] for r in rows_without_notes)
    for row in shown["0"] + shown["1.0"]:
        lines = row["answer"].splitlines()
        at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("#pragma omp"))
        assert lines[at - 1].lstrip().startswith("// ") and \
            lines[at - 1].endswith("=> reduction(max:result)") and "result" in lines[at - 1][:-30]
    copies = {}  # a form's share is the expected number of copies of each record
    for share in ("1.0", "2.0"):
        rows = _dataset_rows(library, tmp_path / f"copies-{share}", tmp_path / "work",
                             f'train.engine.forms={{"pareval:openmp": {share}}}')
        copies[share] = Counter(r["form"] for r in rows)
    assert copies["2.0"]["pareval"] == 2 * copies["1.0"]["pareval"] > 0
    assert set(copies["1.0"]) == {"pareval"}  # forms not named are not written
    for bad, says in ((["--targets", "cuda"], "--targets"),
                      (["--pareval", str(tmp_path)], "not a ParEval checkout"),
                      (["--output", str(library / "kernels.c")], "is a file"),
                      (["--set", 'train.engine.verify_first=["maxx"]'], "'product'")):
        capsys.readouterr()
        args = ["train", "dataset", "--from-engine", str(library), "--output", str(output), *bad]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1
    assert main(["train", "dataset", "--output", str(tmp_path / "x.jsonl")]) == 2
    assert "give folders of source code, or --from-engine" in capsys.readouterr().err


def test_gguf_lora_loads_in_llama_cpp_and_a_zero_adapter_changes_nothing(tmp_path):
    pytest.importorskip("numpy")
    gguf = pytest.importorskip("gguf")
    llama_cpp = pytest.importorskip("llama_cpp")
    from ellora.models.gguf import default_gguf_path, plain_cpu_buffers
    from ellora.models.train.gguf_lora import export_gguf_lora

    base = default_gguf_path()
    shapes = {t.name: [int(x) for x in t.shape] for t in gguf.GGUFReader(str(base)).tensors}
    outputs = []
    for scale in (0.0, 0.05):
        folder = _random_peft_adapter(tmp_path / f"adapter{scale}", shapes, scale, seed=0,
                                      projections=(("q_proj", "attn_q"), ("v_proj", "attn_v")))
        lora = export_gguf_lora(folder, tmp_path / f"a{scale}.gguf", base)
        fields = gguf.GGUFReader(str(lora)).fields
        assert bytes(fields["adapter.type"].parts[-1]).decode() == "lora"
        for path in (None, str(lora)):
            with plain_cpu_buffers():  # as the embedded provider loads it
                model = llama_cpp.Llama(model_path=str(base), lora_path=path, n_ctx=128,
                                        n_threads=2, verbose=False)
            outputs.append(model("int main() {", max_tokens=8, temperature=0)["choices"][0]["text"])
            del model
    assert outputs[0] == outputs[1] == outputs[2] != outputs[3]


def test_export_gguf_bad_input_is_one_line(tmp_path, capsys):
    for args, says in (([str(tmp_path), "--output", str(tmp_path / "a.gguf")],
                        "not a PEFT adapter folder"),
                       ([str(tmp_path), "--output", str(tmp_path / "a.bin")], "*.gguf")):
        assert main(["train", "export-gguf", *args]) == 2
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1


def test_serve_runs_a_gguf_lora_on_llama_cpp(tmp_path, capsys):
    lora = tmp_path / "engine.gguf"
    lora.write_bytes(b"GGUF")
    assert main(["serve", "--engine", "llama.cpp", "--lora", f"ellora-hpc={lora}",
                 "--dry-run"]) == 0
    printed = capsys.readouterr().out
    command = json.loads(printed.splitlines()[0])["command"]
    assert command[command.index("--lora_path") + 1] == str(lora)
    assert command[1:3] == ["-m", "ellora.models.llama_cpp_server"]
    assert command[command.index("--model_alias") + 1] == "ellora-hpc"
    assert 'model = "ellora-hpc"' in printed
    assert main(["serve", "--engine", "llama.cpp", "--lora", f"x={tmp_path}", "--dry-run"]) == 2
    assert "export-gguf" in capsys.readouterr().err


def test_embedded_provider_applies_a_gguf_lora_by_setting(tmp_path):
    pytest.importorskip("llama_cpp")
    pytest.importorskip("numpy")
    gguf = pytest.importorskip("gguf")
    from ellora.models import ModelSettings, ModelUnavailable, create_chat_model
    from ellora.models.gguf import default_gguf_path
    from ellora.models.train.gguf_lora import export_gguf_lora
    from langchain_core.messages import HumanMessage

    base = default_gguf_path()
    shapes = {t.name: [int(x) for x in t.shape] for t in gguf.GGUFReader(str(base)).tensors}
    # every projection a trained adapter covers (on an AMX CPU llama.cpp repacks some of these
    # weights, and a model loaded that way crashed in its first decode: plain_cpu_buffers)
    folder = _random_peft_adapter(tmp_path / "adapter", shapes, 0.5, seed=1,
                                  projections=(("q_proj", "attn_q"), ("k_proj", "attn_k"),
                                               ("v_proj", "attn_v"), ("o_proj", "attn_output")))
    lora = export_gguf_lora(folder, tmp_path / "a.gguf", base)
    question = [HumanMessage("Write a C loop that sums an array.")]
    replies = []
    for path in (None, str(lora)):
        model = create_chat_model(ModelSettings(provider="embedded", lora_path=path, n_ctx=512,
                                                temperature=0.0, max_tokens=12, n_threads=2))
        reply = model.invoke(question)
        replies.append(reply.content)
    assert reply.response_metadata["model"].endswith("+a.gguf")
    assert replies[0] != replies[1]
    for bad, says in ((tmp_path / "none.gguf", "not found"), (folder / "adapter_config.json",
                                                               "not a GGUF file")):
        with pytest.raises(ModelUnavailable, match=says):
            create_chat_model(ModelSettings(provider="embedded", lora_path=str(bad)))


def _random_peft_adapter(folder: Path, shapes: dict, scale: float, seed: int,
                         projections: tuple) -> Path:
    """A rank-4 PEFT LoRA adapter for Gemma 3 270M's 18 layers with random weights (B scaled
    by ``scale``: 0 changes nothing) on the given (PEFT projection, GGUF tensor) pairs."""
    import numpy as np
    from safetensors.numpy import save_file

    folder.mkdir()
    rng, tensors = np.random.default_rng(seed), {}
    for layer in range(18):
        for proj, name in projections:
            fan_in, fan_out = shapes[f"blk.{layer}.{name}.weight"]
            prefix = f"base_model.model.model.layers.{layer}.self_attn.{proj}"
            tensors[f"{prefix}.lora_A.weight"] = rng.normal(0, 0.05, (4, fan_in)).astype("f4")
            tensors[f"{prefix}.lora_B.weight"] = (scale * rng.normal(0, 1, (fan_out, 4))
                                                  ).astype("f4")
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4,
                                                            "lora_alpha": 8}))
    return folder
