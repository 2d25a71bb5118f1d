"""Standard algorithms in parallel: ``std::find``, ``std::count``, ``std::accumulate``,
``std::any_of`` ... called on random-access ranges become calls of a parallel helper
with the same contract.

The calls have no loop for the dependence rules to read, but their parallel forms are
textbook: searches are min-index reductions over windows of growing size (an early match
stops the scan, and the first match is returned, as ``std::find`` does), counts and sums
are reductions (sums reassociated, as every parallel sum is), Each helper checks the iterator category at compile time and calls
the standard algorithm itself for other iterators; predicates are called concurrently, so
a call whose predicate is not a pure lambda (or a named function) is left alone. Under MPI
every rank searches its block and the ranks agree, so every rank gets the serial result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TARGETS = ("openmp", "kokkos", "mpi")
ALGORITHMS = {  # std name -> helper suffix, number of arguments accepted
    "std::find": ("find", (3,)), "std::find_if": ("find_if", (3,)),
    "std::count": ("count", (3,)), "std::count_if": ("count_if", (3,)),
    "std::accumulate": ("accumulate", (3,)), "std::any_of": ("any_of", (3,)),
    "std::all_of": ("all_of", (3,)), "std::none_of": ("none_of", (3,)),
}


@dataclass
class AlgorithmCall:
    line: int
    name: str
    start_byte: int
    end_byte: int  # of the callee


def algorithm_calls(source: str, first_line: int, last_line: int) -> list[AlgorithmCall]:
    """Calls of the algorithms above starting in the lines, whose predicate (if any) is a
    lambda that writes nothing outside itself, or a plain function name."""
    from ellora.tools.loops.cpp import parse, text, walk

    found = []
    for node in walk(parse(source).root_node):
        if node.type != "call_expression":
            continue
        callee = node.child_by_field_name("function")
        name = "".join(text(callee).split()) if callee is not None else ""
        line = node.start_point[0] + 1
        if name not in ALGORITHMS or not first_line <= line <= last_line:
            continue
        arguments = [a for a in node.child_by_field_name("arguments").named_children
                     if a.type != "comment"]
        if len(arguments) not in ALGORITHMS[name][1]:
            continue
        if name.endswith(("_if", "_of")) and not _pure_predicate(arguments[-1]):
            continue
        found.append(AlgorithmCall(line, name, callee.start_byte, callee.end_byte))
    return found


def _pure_predicate(node) -> bool:
    from ellora.tools.loops.cpp import text, walk

    if node.type == "identifier":
        return True
    if node.type != "lambda_expression":
        return False
    declared = {text(n) for n in walk(node) if n.type == "identifier" and n.parent is not None
                and n.parent.type in ("parameter_declaration", "init_declarator",
                                      "reference_declarator")}
    for inner in walk(node.child_by_field_name("body")):
        target = None
        if inner.type == "assignment_expression":
            target = inner.child_by_field_name("left")
        elif inner.type == "update_expression":
            target = inner.child_by_field_name("argument")
        elif inner.type == "call_expression":
            return False  # a call inside the predicate: its effects are not known here
        if target is not None:
            root = re.match(r"\w+", "".join(text(target).split()))
            if root is None or root.group(0) not in declared:
                return False
    return True


def mark_algorithms(source: str, calls: list[AlgorithmCall]) -> str:
    """The source with each callee renamed to its parallel helper (same lines)."""
    data = source.encode()
    for call in sorted(calls, key=lambda c: c.start_byte, reverse=True):
        helper = f"ellora_parallel_{ALGORITHMS[call.name][0]}".encode()
        data = data[: call.start_byte] + helper + data[call.end_byte:]
    return data.decode()


def with_algorithm_helpers(source: str, target: str, calls: list[AlgorithmCall]) -> str:
    from ellora.tools.loops.text import after_includes, ensure_include

    for header in ("algorithm", "iterator", "numeric", "type_traits", "functional") + (
            ("omp.h",) if target == "openmp" else ("mpi.h",) if target == "mpi" else ()):
        source = ensure_include(source, header)
    helpers = _PRELUDE[target]
    for name in dict.fromkeys(ALGORITHMS[c.name][0] for c in calls):
        helpers += _HELPERS[name]
    if "ellora_parallel_min_index" not in source:
        source = after_includes(source, "\n" + helpers)
    if target == "kokkos":
        from ellora.tools.loops.emit import ensure_kokkos_initialized

        source = ensure_kokkos_initialized(ensure_include(source, "Kokkos_Core.hpp"))
    return source


def shipped_helper_texts() -> set[str]:
    """Each helper function exactly as inserted (the race check trusts these texts only)."""
    from ellora.tools.loops.cpp import parse, text, walk

    sources = [*_PRELUDE.values(), *_HELPERS.values()]
    tree = parse("\n".join(sources))
    return {text(n) for n in walk(tree.root_node) if n.type == "function_definition"}


def algorithm_explanation(calls: list[AlgorithmCall], target: str) -> str:
    how = {"openmp": "OpenMP threads", "kokkos": "Kokkos host threads",
           "mpi": "one block per MPI rank, combined with MPI_Allreduce"}[target]
    return "; ".join(
        f"line {c.line}: {c.name} -> a parallel {ALGORITHMS[c.name][0]} on {how} (same "
        "result: the first match, the exact count; sums reassociated)"
        for c in calls)


# Each target supplies two primitives over [0, n): the smallest matching index (n if none;
# windows of growing size so an early match stops early), each thread or rank scanning its
# block with scan(lo, hi) -- the serial algorithm on [lo, hi), which returns hi when nothing
# matches -- and a sum of value(i).
_PRELUDE = {
    "openmp": """\
// Ellora: parallel forms of standard algorithms (random-access ranges; others call std::).
template <class Scan>
static long long ellora_parallel_min_index(long long n, Scan scan) {
  const long long prefix = std::min(n, 4096LL);  // an early match costs what it does serially
  long long first = scan(0LL, prefix);
  if (first < prefix) return first;
  first = n;
  for (long long w = prefix, width = 16384; w < n && first == n; w += width, width *= 2) {
    const long long end = std::min(n, w + width);
    #pragma omp parallel reduction(min:first)
    {  // each thread scans its own block with the serial algorithm, stopping at its match
      const long long parts = omp_get_num_threads(), part = omp_get_thread_num();
      const long long lo = w + (end - w) * part / parts, hi = w + (end - w) * (part + 1) / parts;
      const long long at = scan(lo, hi);
      if (at < hi) first = at;
    }
  }
  return first;
}
template <class T, class Value>
static T ellora_parallel_sum(long long n, T init, Value value) {
  T total = T();
  #pragma omp parallel for schedule(static) reduction(+:total)
  for (long long i = 0; i < n; ++i) total += value(i);
  return init + total;
}
""",
    "kokkos": """\
// Ellora: parallel forms of standard algorithms (random-access ranges; others call std::).
template <class Scan>
static long long ellora_parallel_min_index(long long n, Scan scan) {
  const long long prefix = std::min(n, 4096LL);  // an early match costs what it does serially
  long long first = scan(0LL, prefix);
  if (first < prefix) return first;
  first = n;
  const long long parts = Kokkos::DefaultHostExecutionSpace().concurrency();
  for (long long w = prefix, width = 16384; w < n && first == n; w += width, width *= 2) {
    const long long end = std::min(n, w + width);
    long long found = n;
    Kokkos::parallel_reduce("ellora_min_index",
      Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, parts),
      [=](const long long part, long long& best) {  // one block per thread, scanned serially
        const long long lo = w + (end - w) * part / parts, hi = w + (end - w) * (part + 1) / parts;
        const long long at = scan(lo, hi);
        if (at < hi && at < best) best = at;
      },
      Kokkos::Min<long long>(found));
    if (found < first) first = found;
  }
  return first;
}
template <class T, class Value>
static T ellora_parallel_sum(long long n, T init, Value value) {
  T total = T();
  Kokkos::parallel_reduce("ellora_sum",
    Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n),
    [=](const long long i, T& part) { part += value(i); }, Kokkos::Sum<T>(total));
  return init + total;
}
""",
    "mpi": """\
// Ellora: parallel forms of standard algorithms (random-access ranges; others call std::).
// Every rank holds the whole range and gets the serial result.
template <class Scan>
static long long ellora_parallel_min_index(long long n, Scan scan) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const long long lo = n * rank / size, hi = n * (rank + 1) / size;
  long long first = scan(lo, hi);
  if (first >= hi) first = n;
  MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  return first;
}
template <class T, class Value>
static T ellora_parallel_sum(long long n, T init, Value value) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  T part = T();
  for (long long i = n * rank / size; i < n * (rank + 1) / size; ++i) part += value(i);
  std::vector<T> parts(size);
  MPI_Allgather(&part, sizeof(T), MPI_BYTE, parts.data(), sizeof(T), MPI_BYTE, MPI_COMM_WORLD);
  T total = init;
  for (const T& p : parts) total = total + p;  // in rank order on every rank
  return total;
}
""",
}

_RANDOM = ("std::is_base_of<std::random_access_iterator_tag, typename "
           "std::iterator_traits<It>::iterator_category>::value")
_HELPERS = {
    "find": f"""template <class It, class T>
static It ellora_parallel_find(It first, It last, const T& value) {{
  if constexpr (!{_RANDOM}) return std::find(first, last, value);
  else return first + ellora_parallel_min_index(last - first, [&](long long lo, long long hi) {{
      return static_cast<long long>(std::find(first + lo, first + hi, value) - first); }});
}}
""",
    "find_if": f"""template <class It, class P>
static It ellora_parallel_find_if(It first, It last, P pred) {{
  if constexpr (!{_RANDOM}) return std::find_if(first, last, pred);
  else return first + ellora_parallel_min_index(last - first, [&](long long lo, long long hi) {{
      return static_cast<long long>(std::find_if(first + lo, first + hi, pred) - first); }});
}}
""",
    "any_of": f"""template <class It, class P>
static bool ellora_parallel_any_of(It first, It last, P pred) {{
  if constexpr (!{_RANDOM}) return std::any_of(first, last, pred);
  else return ellora_parallel_min_index(last - first, [&](long long lo, long long hi) {{
      return static_cast<long long>(std::find_if(first + lo, first + hi, pred) - first);
  }}) < last - first;
}}
""",
    "none_of": f"""template <class It, class P>
static bool ellora_parallel_none_of(It first, It last, P pred) {{
  if constexpr (!{_RANDOM}) return std::none_of(first, last, pred);
  else return ellora_parallel_min_index(last - first, [&](long long lo, long long hi) {{
      return static_cast<long long>(std::find_if(first + lo, first + hi, pred) - first);
  }}) == last - first;
}}
""",
    "all_of": f"""template <class It, class P>
static bool ellora_parallel_all_of(It first, It last, P pred) {{
  if constexpr (!{_RANDOM}) return std::all_of(first, last, pred);
  else return ellora_parallel_min_index(last - first, [&](long long lo, long long hi) {{
      return static_cast<long long>(std::find_if_not(first + lo, first + hi, pred) - first);
  }}) == last - first;
}}
""",
    "count": f"""template <class It, class T>
static typename std::iterator_traits<It>::difference_type
ellora_parallel_count(It first, It last, const T& value) {{
  if constexpr (!{_RANDOM}) return std::count(first, last, value);
  else return ellora_parallel_sum<long long>(last - first, 0,
      [&](long long i) {{ return first[i] == value ? 1LL : 0LL; }});
}}
""",
    "count_if": f"""template <class It, class P>
static typename std::iterator_traits<It>::difference_type
ellora_parallel_count_if(It first, It last, P pred) {{
  if constexpr (!{_RANDOM}) return std::count_if(first, last, pred);
  else return ellora_parallel_sum<long long>(last - first, 0,
      [&](long long i) {{ return pred(first[i]) ? 1LL : 0LL; }});
}}
""",
    "accumulate": f"""template <class It, class T>
static T ellora_parallel_accumulate(It first, It last, T init) {{
  if constexpr (!{_RANDOM} || !std::is_arithmetic<T>::value)
    return std::accumulate(first, last, init);
  else return ellora_parallel_sum<T>(last - first, init,
      [&](long long i) {{ return static_cast<T>(first[i]); }});
}}
""",

}
