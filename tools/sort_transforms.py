"""Parallel sorts: ``std::sort(first, last[, comp])`` calls in a region become a block sort.

A sort has no loop for the dependence analysis to read, but its parallel form is standard:
split the range into a power-of-two number of blocks (at least the thread or rank count),
sort the blocks independently, then merge neighbouring blocks pairwise. The result is a
sorted permutation of the input under the same comparison, which is everything
``std::sort`` promises; equal elements may come out in another order, which ``std::sort``
(not stable) allows too. ``std::stable_sort`` is left alone.

OpenMP and Kokkos sort the blocks on the host's threads in place. MPI sorts one block per rank
and gathers the sorted blocks to every rank before the merge, so every rank holds the sorted
range afterwards, as it would after its own ``std::sort``; that needs contiguous storage
(pointers or vector/array iterators) and trivially copyable elements, checked at compile time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ellora.tools.loops.cpp import parse, text, walk
from ellora.tools.loops.text import after_includes, ensure_include

SORT_TARGETS = ("openmp", "kokkos", "mpi")
_SORT_NAMES = ("std::sort", "sort")

_MERGE_ROUNDS = """\
  for (long long ellora_width = 1; ellora_width < ellora_blocks; ellora_width *= 2) {{
    {parallel}for (long long ellora_b = 0; ellora_b < ellora_blocks; ellora_b += 2 * ellora_width) {{
      const long long ellora_mid = std::min(ellora_b + ellora_width, ellora_blocks);
      const long long ellora_end = std::min(ellora_b + 2 * ellora_width, ellora_blocks);
      std::inplace_merge(first + ellora_bound(ellora_b), first + ellora_bound(ellora_mid),
                         first + ellora_bound(ellora_end), comp);
    }}
  }}"""

_HEAD = """\
// Ellora: std::sort in parallel. The range is cut into blocks, the blocks are sorted
// independently{where},
// and neighbouring blocks are merged pairwise. The result is sorted under the same
// comparison (equal elements may be ordered differently, as std::sort allows).
template <class RandomIt, class Compare>
static void ellora_parallel_sort(RandomIt first, RandomIt last, Compare comp) {{
  const long long n = static_cast<long long>(last - first);
  const long long workers = {workers};
{blocks}
  if (ellora_blocks == 1 || n < 2 * ellora_blocks) {{
    std::sort(first, last, comp);
    return;
  }}
  auto ellora_bound = [&](long long b) {{ return n * b / ellora_blocks; }};
"""

_POWER_OF_TWO = """\
  long long ellora_blocks = 1;
  while (ellora_blocks < workers) ellora_blocks *= 2;"""

_OPENMP = _HEAD.format(where=" by the OpenMP threads", workers="omp_get_max_threads()",
                       blocks=_POWER_OF_TWO) + """\
  #pragma omp parallel for schedule(static)
  for (long long ellora_b = 0; ellora_b < ellora_blocks; ++ellora_b) {
    std::sort(first + ellora_bound(ellora_b), first + ellora_bound(ellora_b + 1), comp);
  }
""" + _MERGE_ROUNDS.format(parallel="#pragma omp parallel for schedule(dynamic, 1)\n    ") + """
}
"""

_KOKKOS = _HEAD.format(
    where=" by Kokkos' host threads",
    workers="Kokkos::DefaultHostExecutionSpace().concurrency()",
    blocks=_POWER_OF_TWO,
) + """\
  Kokkos::parallel_for("ellora_sort_blocks",
    Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, ellora_blocks),
    [=](const long long ellora_b) {
      std::sort(first + ellora_bound(ellora_b), first + ellora_bound(ellora_b + 1), comp);
    });
  Kokkos::DefaultHostExecutionSpace().fence();
""" + _MERGE_ROUNDS.format(parallel="") + """
}
"""

_MPI = """\
static long long ellora_sort_ranks() {
  int ranks = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  return ranks;
}

""" + _HEAD.format(
    where=" (one block per MPI rank, then gathered to every rank)",
    workers="ellora_sort_ranks()",
    blocks="  long long ellora_blocks = workers;  // one block per rank",
) + """\
  typedef typename std::iterator_traits<RandomIt>::value_type ellora_value;
  static_assert(std::is_trivially_copyable<ellora_value>::value,
                "ellora_parallel_sort sends elements as bytes");
  int ellora_rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &ellora_rank);
  ellora_value* const data = &*first;  // contiguous storage: pointers, vector iterators
  std::sort(data + ellora_bound(ellora_rank), data + ellora_bound(ellora_rank + 1), comp);
  std::vector<int> ellora_counts(ellora_blocks), ellora_displs(ellora_blocks);
  for (long long b = 0; b < ellora_blocks; ++b) {
    ellora_displs[b] = static_cast<int>(ellora_bound(b) * sizeof(ellora_value));
    ellora_counts[b] = static_cast<int>((ellora_bound(b + 1) - ellora_bound(b)) * sizeof(ellora_value));
  }
  MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, data, ellora_counts.data(), ellora_displs.data(),
                 MPI_BYTE, MPI_COMM_WORLD);
""" + _MERGE_ROUNDS.format(parallel="") + """
}
"""

_DEFAULT_ORDER = """
template <class RandomIt>
static void ellora_parallel_sort(RandomIt first, RandomIt last) {
  ellora_parallel_sort(first, last, std::less<>());
}
"""

_HELPERS = {"openmp": _OPENMP, "kokkos": _KOKKOS, "mpi": _MPI}
_HEADERS = {
    "openmp": ("algorithm", "functional", "omp.h"),
    "kokkos": ("algorithm", "functional"),
    "mpi": ("algorithm", "functional", "iterator", "type_traits", "vector", "mpi.h"),
}


def shipped_helper_texts() -> set[str]:
    """Each helper function exactly as inserted (the race check trusts these texts only)."""
    tree = parse("\n".join(_HELPERS.values()) + _DEFAULT_ORDER)
    return {text(n) for n in walk(tree.root_node) if n.type == "function_definition"}


@dataclass
class SortCall:
    line: int
    start_byte: int
    end_byte: int  # of the callee name
    arguments: list[str]


def sort_calls(source: str, first_line: int, last_line: int) -> list[SortCall]:
    """``std::sort`` calls that start in the lines, in source order, whose result a block
    sort reproduces exactly: the default order on arithmetic elements (equivalent elements
    are equal). With a comparator, or on class types, elements the order calls equivalent
    may still differ, and std::sort leaves them in the library's own order, which a block
    sort does not: those calls are left alone."""
    from ellora.tools.loops.cpp import CppSource

    parsed = CppSource(source)
    tree = parsed.tree
    found = []
    for node in walk(tree.root_node):
        if node.type != "call_expression":
            continue
        callee = node.child_by_field_name("function")
        name = "".join(text(callee).split()) if callee is not None else ""
        line = node.start_point[0] + 1
        if name not in _SORT_NAMES or not first_line <= line <= last_line:
            continue
        if name == "sort" and not re.search(r"using\s+namespace\s+std\s*;", source):
            continue
        arguments = node.child_by_field_name("arguments")
        values = [text(a) for a in arguments.named_children if a.type != "comment"]
        if sort_obstacle(parsed, node, values) is None:
            found.append(SortCall(line, callee.start_byte, callee.end_byte, values))
    return found


_EXACT_ORDERS = re.compile(r"\s*std::(?:less|greater)\s*<\s*[\w:\s]*>\s*(?:\(\s*\)|\{\s*\})\s*")


def sort_obstacle(parsed, node, values: list[str]) -> str | None:
    """Why a block sort would not reproduce this std::sort call, or None."""
    if len(values) not in (2, 3):
        return "a std::sort call with other arguments"
    if not _arithmetic_range(parsed, node, values[0]):
        return ("std::sort of elements that are not numbers: elements its order calls "
                "equivalent may differ, and std::sort leaves them in the library's order, "
                "which a parallel sort does not reproduce")
    if len(values) == 3 and not _EXACT_ORDERS.fullmatch(values[2]):
        return ("std::sort with a comparator of its own: numbers it calls equivalent may "
                "differ (as -3 and 3 under |x|), and their order would change")
    return None


def refused_sorts(source: str, first_line: int, last_line: int) -> list[tuple[int, str]]:
    """(line, why) of the std::sort calls in the lines that are left alone."""
    from ellora.tools.loops.cpp import CppSource

    parsed = CppSource(source)
    found = []
    for node in walk(parsed.tree.root_node):
        if node.type != "call_expression":
            continue
        callee = node.child_by_field_name("function")
        name = "".join(text(callee).split()) if callee is not None else ""
        line = node.start_point[0] + 1
        if name != "std::sort" or not first_line <= line <= last_line:
            continue
        arguments = node.child_by_field_name("arguments")
        values = [text(a) for a in arguments.named_children if a.type != "comment"]
        why = sort_obstacle(parsed, node, values)
        if why is not None:
            found.append((line, why))
    return found


def _arithmetic_range(parsed, node, first: str) -> bool:
    """Whether the range starting at ``first`` (``v.begin()``, ``std::begin(v)``, ``p``,
    ``p + k``, ``v.data()``) holds arithmetic elements."""
    match = re.fullmatch(r"\s*(?:std::begin\(\s*(\w+)\s*\)|(\w+)\s*\.\s*(?:begin|data)\(\s*\)"
                         r"|(\w+)(?:\s*\+.*)?)\s*", first, re.DOTALL)
    if match is None:
        return False
    name = next(g for g in match.groups() if g)
    symbol = parsed.context_for(node).scope.lookup(name, node.start_byte)
    element = symbol.ctype.element if symbol is not None else None
    return element is not None and element.kind in ("scalar", "bool")


def mark_sorts(source: str, calls: list[SortCall]) -> str:
    """The source with each call's callee renamed to ``ellora_parallel_sort`` (same lines)."""
    encoded = source.encode()
    for call in reversed(calls):
        encoded = encoded[: call.start_byte] + b"ellora_parallel_sort" + encoded[call.end_byte:]
    return encoded.decode()


def with_sort_helper(source: str, target: str) -> str:
    """The source with the target's headers and ``ellora_parallel_sort`` defined (once)."""
    for header in _HEADERS[target]:
        source = ensure_include(source, header)
    if "ellora_parallel_sort(RandomIt first, RandomIt last, Compare comp)" not in source:
        source = after_includes(source, "\n" + _HELPERS[target] + _DEFAULT_ORDER)
    if target == "kokkos":
        from ellora.tools.loops.emit import ensure_kokkos_initialized

        source = ensure_kokkos_initialized(ensure_include(source, "Kokkos_Core.hpp"))
    return source


def sort_explanation(calls: list[SortCall], target: str) -> str:
    how = {
        "openmp": "blocks sorted by the OpenMP threads, merged pairwise",
        "kokkos": "blocks sorted in a Kokkos parallel_for on the host threads, merged pairwise",
        "mpi": "one block sorted per rank, MPI_Allgatherv to every rank, merged pairwise",
    }[target]
    return "; ".join(
        f"line {c.line}: std::sort -> parallel block sort ({how}); sorted under the same "
        "comparison, equal elements may be ordered differently (std::sort is not stable either)"
        for c in calls
    )
