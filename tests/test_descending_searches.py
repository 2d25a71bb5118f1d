"""First-match searches in loops counting down (``for (int i = n - 1; i >= 0; i--) if (c)
return i;``, ``i-- > 0`` with ``break``): the first match in the loop's order is the highest
index that matches. The windowed search runs in that order (iteration m is the m-th from the
top) and the body runs again from the match downwards. Compared with the serial functions
under OpenMP, Kokkos and MPI, with matches near the top, the bottom, and none."""

from __future__ import annotations

import pytest
from loop_support import (
    agrees_on,
    check_program,
    region_source,
    serial_twins,
)

SEARCHES = """\
#include <cstddef>
#include <vector>
struct Book { int pages; };
std::size_t lastShort(std::vector<Book> const& books) {
  for (int i = books.size() - 1; i >= 0; i--) {
    if (books[i].pages < 100) {
      return i;
    }
  }
  return books.size();
}
long lastNegative(const std::vector<double>& x) {
  long found = -1;
  for (std::size_t i = x.size(); i-- > 0;) {
    if (x[i] < 0) { found = (long)i; break; }
  }
  return found;
}
"""

CHECK = """
#include <cstdio>
int main(int argc, char** argv) {
  INIT
  int same = 1;
  for (int n : {0, 1, 7, 5000, 300001}) {
    for (int where : {-1, 0, 1, 2}) {  // no match, near the bottom, middle, near the top
      std::vector<Book> b(n, Book{500});
      std::vector<double> x(n, 1.0);
      const int at = where < 0 || n == 0 ? -1 : where == 0 ? 0 : where == 1 ? n / 2 : n - 1;
      if (at >= 0) { b[at].pages = 50; x[at] = -2.0; }
      if (at > 3) { b[at - 3].pages = 10; x[at - 3] = -1.0; }  // a lower match as well
      same &= lastShort(b) == serial_lastShort(b) && lastNegative(x) == serial_lastNegative(x);
    }
  }
  REPORT
}
"""


@pytest.mark.parametrize("target", ["openmp", "kokkos", "mpi"])
def test_searches_counting_down_find_the_highest_match(tmp_path, target):
    parallel = region_source(SEARCHES, 1, 30, target)
    assert parallel.count("ellora_lo + ellora_hi - 1 - ellora_m") >= 2, parallel
    serial = serial_twins(SEARCHES, ("lastShort", "lastNegative"), "struct Book { int pages; };\n")
    program = check_program(parallel, serial, CHECK, target)
    agrees_on(tmp_path, program, target, (1, 2, 4))
