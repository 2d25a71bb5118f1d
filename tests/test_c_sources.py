"""C files are the user's C: a ``.c`` file is built by the C compiler beside the C++ one
(gcc for g++), as a program or alone; a synthesized harness (C++) includes it with C99's
``restrict`` spelled for C++ and C's implicit conversions allowed, after the variant has
been compiled alone as C, so a port the user's C build would reject is never verified; the
engine writes its run-time overlap test in C there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ellora.tools.toolchain import BuildRecipe, c_compiler_beside

AGENT = [sys.executable, "-m", "ellora.agents.cli.agent_command"]
FAST = ["--set", "agent.timing_size=200000", "--set", "agent.min_timing_s=0",
        "--set", "agent.timing_repeats=2", "--set", "agent.test_sizes=[0,1,7,1001]",
        "--set", "agent.min_speedup=0", "--set", "agent.max_fix_attempts=0"]

RESTRICT_KERNEL = """\
#include <stddef.h>

void clamp(size_t n, float *restrict out, const float *restrict in, float lo, float hi) {
  for (size_t i = 0; i < n; i++) {
    float v = in[i];
    out[i] = v < lo ? lo : (v > hi ? hi : v);
  }
}
"""

C_PROGRAM = """\
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const int n = 300000;
  double *x = malloc(n * sizeof *x);
  for (int i = 0; i < n; i++) x[i] = (i % 1000) * 0.001;
  double s = 0.0;
  for (int i = 0; i < n; i++) {
    s += sqrt(x[i]) + x[i];
  }
  printf("%.3f\\n", s);
  free(x);
  return 0;
}
"""

UNRESTRICTED_KERNEL = """\
void scale_into(int n, double *out, const double *in, double a) {
  for (int i = 0; i < n; i++) {
    out[i] = a * in[i] + 1.0;
  }
}
"""


def _agent(path: Path, lines: str) -> dict:
    result = subprocess.run([*AGENT, "parallelize this loop with OpenMP", "--file", str(path),
                             "--lines", lines, "--json", "--quiet", *FAST],
                            check=False, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ))
    return json.loads(result.stdout)


def test_a_c_recipe_is_the_c_compiler_beside_the_cxx_one():
    gcc = c_compiler_beside("/usr/bin/g++")
    assert gcc is not None and Path(gcc).name == "gcc"
    recipe = BuildRecipe("openmp", "/usr/bin/g++", ("-std=c++17", "-O3", "-fopenmp")).for_c()
    assert recipe is not None and Path(recipe.compiler).name == "gcc"
    assert recipe.flags == ("-std=gnu17", "-O3", "-fopenmp") and "-lm" in recipe.libraries
    assert BuildRecipe("kokkos", "/usr/bin/g++", ("-std=c++17",)).for_c() is None
    assert c_compiler_beside("/usr/bin/no-such-compiler++") is None


def test_a_restrict_kernel_is_tested_with_a_synthesized_harness(tmp_path):
    source = tmp_path / "clamp.c"
    source.write_text(RESTRICT_KERNEL)
    report = _agent(source, "4-7")
    assert report["status"] == "verified", report.get("status_reason")
    assert report["test"]["status"] == "passed"
    assert source.read_text() == RESTRICT_KERNEL


def test_a_c_program_is_built_as_c_and_its_output_compared(tmp_path):
    """``malloc`` without a cast and ``sqrt`` without libm in the link line are C: g++
    rejects the first, and the C link needs ``-lm``."""
    source = tmp_path / "sums.c"
    source.write_text(C_PROGRAM)
    report = _agent(source, "10-12")
    for variant in ("original", "candidate"):
        build = report["build"][variant]
        assert build["ok"] and Path(build["command"][0]).name == "gcc", build
        assert "-std=gnu17" in build["command"] and "-lm" in build["command"]
    assert report["status"] == "verified", report.get("status_reason")
    assert "reduction(+:s)" in report["diff"]


def test_unrestricted_pointers_are_tested_apart_in_c(tmp_path):
    """Two pointers that may overlap: the port tests their ranges apart at run time, written
    in C (no lambda, no C++ header), so the applied file compiles as strict C11."""
    source = tmp_path / "scale.c"
    source.write_text(UNRESTRICTED_KERNEL)
    result = subprocess.run([*AGENT, "parallelize this loop with OpenMP", "--file", str(source),
                             "--lines", "2-4", "--json", "--quiet", "--apply", *FAST],
                            check=False, capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    assert report["status"] == "verified", report.get("status_reason")
    ported = source.read_text()
    assert "ellora_apart(" in ported and "#pragma omp parallel for" in ported
    assert "[&]" not in ported and "std::" not in ported
    compiled = subprocess.run(["gcc", "-std=c11", "-pedantic-errors", "-fopenmp", "-c",
                               str(source), "-o", str(tmp_path / "scale.o")],
                              check=False, capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr


def test_the_optimizers_if_converted_variant_of_a_c_port_is_c():
    """The optimize round lowers the region again (conditional stores as selects) in the
    file's language: for a C file its overlap test is C too."""
    from ellora.tools.loops.region import plan_region
    from ellora.tools.tuning import variants

    source = ("void keep_positive(int n, double *y, const double *x) {\n"
              "  for (int i = 0; i < n; i++) {\n"
              "    if (x[i] > 0.0) y[i] = x[i];\n"
              "  }\n"
              "}\n")
    plan = plan_region(source, 2, 4, "openmp", c_source=True)
    [decision] = plan.transformed
    assert decision.to_dict()["conditional_stores"]
    [converted] = [v for v in variants("openmp", plan.source, decision.to_dict(),
                                       (source, 2, 4), "keep.c")
                   if v.name == "if-converted stores"]
    assert "ellora_apart(" in converted.source and "[&]" not in converted.source
