"""The checks made before any graph runs: which programming model a task asks for (and why),
and whether the selected lines hold code to change, in C/C++ and Fortran."""

from __future__ import annotations

import pytest
from ellora.agents.cli.errors import UserError
from ellora.agents.intent import UnsupportedTarget, read_intent
from ellora.agents.selection import has_code, require_code, strip_comments


@pytest.mark.parametrize("task, target, why", [
    ("port this OpenMP loop to Kokkos", "kokkos", "'to kokkos'"),
    ("port this CUDA kernel to Kokkos", "kokkos", "'to kokkos'"),
    ("port this loop from SYCL into MPI", "mpi", "'into mpi'"),
    ("make this MPI reduction faster", "mpi", "'mpi'"),
    ("speed this up", "openmp", "names no programming model, so OpenMP (the default)"),
    ("port this loop from CUDA", "openmp", "the default"),
])
def test_the_target_and_the_reason_it_was_chosen(task, target, why):
    intent = read_intent(task)
    assert intent.target == target and why in intent.reason


@pytest.mark.parametrize("task, name", [
    ("port this loop to SYCL", "SYCL"), ("port this loop to DPC++", "SYCL"),
    ("rewrite in HIP", "HIP"), ("use OpenACC", "OpenACC"), ("offload with OpenCL", "OpenCL"),
    ("port this OpenMP loop to CUDA", "CUDA"), ("parallelize with TBB", "TBB"),
])
def test_a_target_ellora_cannot_write_is_refused_naming_the_ones_it_can(task, name):
    with pytest.raises(UnsupportedTarget) as caught:
        read_intent(task)
    message = str(caught.value)
    assert message.startswith(f"{name} ports are not supported yet")
    assert "OpenMP, Kokkos or MPI" in message and "\n" not in message


C_SOURCE = """\
#include <cstdio>   // line 1
/* a block comment that
   spans lines 2-4 and says for (int i = 0; i < n; ++i)
*/
const char* s = "// not a comment"; /* trailing */
long big = 1'000'000; char q = '\\''; auto r = R"x(/* raw, not a comment */)x";
// line 7 \\
   continued comment on line 8
}

void f(double* y) { y[0] = 1; }
#pragma omp parallel for
"""


def test_c_comments_are_stripped_around_strings_characters_and_raw_strings():
    stripped = strip_comments(C_SOURCE).splitlines()
    assert len(stripped) == len(C_SOURCE.splitlines())
    assert stripped[0].rstrip() == "#include <cstdio>"
    assert stripped[2].strip() == "" and stripped[3].strip() == ""
    assert stripped[4].rstrip() == 'const char* s = "// not a comment";'
    assert "raw, not a comment" in stripped[5] and "1'000'000" in stripped[5]
    assert stripped[6].strip() == "" and stripped[7].strip() == ""


@pytest.mark.parametrize("first, last, expected", [
    (1, 1, False),   # a directive
    (2, 4, False),   # inside a block comment, opened on the first selected line
    (3, 4, False),   # starting inside a block comment opened above the selection
    (7, 10, False),  # comments, a brace and a blank line
    (5, 5, True),    # a statement (no loop: the model may still be asked)
    (11, 11, True),
    (12, 12, False),
])
def test_which_c_selections_hold_code(first, last, expected):
    assert has_code(C_SOURCE, first, last) is expected


FORTRAN_FREE = """\
program p
  ! only a comment, 'quoted' and // concatenated
  s = 'it''s ! not a comment'
  x = a // b ! Fortran's concatenation, then a comment
  ! another comment
end program p
"""
FORTRAN_FIXED = """\
C     a fixed-form comment line
*     another one
      DO 10 I = 1, N
   10 Y(I) = A * X(I) + Y(I)
"""


def test_fortran_comments_are_stripped_by_form():
    free = strip_comments(FORTRAN_FREE, "fortran").splitlines()
    assert free[1].strip() == ""
    assert free[2].rstrip() == "  s = 'it''s ! not a comment'"
    assert free[3].rstrip() == "  x = a // b"
    assert has_code(FORTRAN_FREE, 2, 2, "fortran") is False
    assert has_code(FORTRAN_FREE, 4, 5, "fortran") is True
    assert has_code(FORTRAN_FIXED, 1, 2, "fortran-fixed") is False
    assert has_code(FORTRAN_FIXED, 1, 3, "fortran-fixed") is True
    assert has_code(FORTRAN_FIXED, 1, 2, "c") is True  # C rules would keep them: why forms matter


def test_require_code_names_the_file_the_lines_and_the_fix(tmp_path):
    with pytest.raises(UserError, match=r"lines 2-2 of .*p\.f90 hold no code to change"):
        require_code(FORTRAN_FREE, 2, 2, tmp_path / "p.f90")
    with pytest.raises(UserError, match="lines 1-2 of old.f hold no code"):
        require_code(FORTRAN_FIXED, 1, 2, "old.f")
    require_code(FORTRAN_FIXED, 3, 4, "old.f")
    require_code(FORTRAN_FREE, 3, 3, "p", language="fortran")
