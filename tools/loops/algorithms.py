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

from ellora.tools.loops.algorithm_folds import OPERATION_AT, PRIMITIVES, SCANS
from ellora.tools.loops.algorithm_folds import helpers as fold_helpers

TARGETS = ("openmp", "kokkos", "mpi")
SHARED_MEMORY = ("openmp", "kokkos")  # algorithms that write a range: every rank holds it all
ALGORITHMS = {  # std name -> helper suffix, number of arguments accepted
    "std::find": ("find", (3,)), "std::find_if": ("find_if", (3,)),
    "std::count": ("count", (3,)), "std::count_if": ("count_if", (3,)),
    "std::accumulate": ("accumulate", (3,)), "std::any_of": ("any_of", (3,)),
    "std::all_of": ("all_of", (3,)), "std::none_of": ("none_of", (3,)),
    "std::inner_product": ("inner_product", (4,)),
    "std::transform_reduce": ("inner_product", (4,)),  # (first1, last1, first2, init)
    "std::reduce": ("reduce", (2, 3, 4)),  # 4: with the caller's operation (folds.py)
    "std::inclusive_scan": ("inclusive_scan", (3, 4, 5)),
    "std::exclusive_scan": ("exclusive_scan", (4, 5)),
    "std::min_element": ("min_element", (2, 3)), "std::max_element": ("max_element", (2, 3)),
    "std::transform": ("transform", (4, 5)), "std::for_each": ("for_each", (3,)),
    "std::fill": ("fill", (3,)),
}
WRITERS = ("std::transform", "std::for_each", "std::fill")  # shared-memory targets only
# the last argument is a callable the helper calls concurrently, at these argument counts
CALLABLE_LAST = {"std::find_if": (3,), "std::count_if": (3,), "std::any_of": (3,),
                 "std::all_of": (3,), "std::none_of": (3,), "std::min_element": (3,),
                 "std::max_element": (3,), "std::transform": (4, 5), "std::for_each": (3,)}


@dataclass
class AlgorithmCall:
    line: int
    name: str
    start_byte: int
    end_byte: int  # of the callee


def algorithm_calls(source: str, first_line: int, last_line: int,
                    target: str | None = None) -> list[AlgorithmCall]:
    """Calls of the algorithms above starting in the lines, whose predicate (if any) is a
    lambda that writes nothing outside itself, or a plain function name. An algorithm that
    writes a range (transform, for_each, fill) is taken for shared-memory targets only, and
    its callable must not capture by reference (it would see the range being written)."""
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
        if arguments and "execution" in text(arguments[0]):
            continue  # an execution policy first: the caller already chose how it runs
        at = OPERATION_AT.get(name, {}).get(len(arguments))
        if at is not None and (not _pure_predicate(arguments[at]) or (
                name in SCANS and _captures_by_reference(arguments[at]))):
            continue
        if name in WRITERS and target is not None and target not in SHARED_MEMORY:
            continue
        if len(arguments) in CALLABLE_LAST.get(name, ()) and (
                not _pure_predicate(arguments[-1]) or
                (name in WRITERS and _captures_by_reference(arguments[-1]))):
            continue
        found.append(AlgorithmCall(line, name, callee.start_byte, callee.end_byte))
    return found


def _captures_by_reference(node) -> bool:
    from ellora.tools.loops.cpp import text

    captures = node.child_by_field_name("captures") if node.type == "lambda_expression" \
        else None
    return captures is not None and ("&" in text(captures) or "this" in text(captures))


def _pure_predicate(node) -> bool:
    from ellora.tools.loops.cpp import text, walk

    if node.type == "identifier":
        return True
    if node.type != "lambda_expression":
        return False
    body_node = node.child_by_field_name("body")
    head = text(node)[: body_node.start_byte - node.start_byte] if body_node is not None else ""
    if re.search(r"\bmutable\b", head):
        return False  # its captured copies change from call to call
    declared = {text(n) for n in walk(node) if n.type == "identifier" and n.parent is not None
                and n.parent.type in ("parameter_declaration", "init_declarator",
                                      "reference_declarator")}
    for inner in walk(node.child_by_field_name("body")):
        target = None
        if inner.type == "assignment_expression":
            target = inner.child_by_field_name("left")
        elif inner.type == "update_expression":
            target = inner.child_by_field_name("argument")
        elif inner.type == "call_expression" and not _pure_callee(inner):
            return False  # a call inside the predicate: its effects are not known here
        if target is not None:
            root = re.match(r"\w+", "".join(text(target).split()))
            if root is None or root.group(0) not in declared:
                return False
    return True


def _pure_callee(call) -> bool:
    """A call of a function the one table calls pure (``std::abs``, ``sqrt``)."""
    from ellora.tools.loops.calls import classify_name
    from ellora.tools.loops.cpp import text

    function = call.child_by_field_name("function")
    if function is None or function.type not in ("identifier", "qualified_identifier"):
        return False
    name = re.sub(r"<.*?>(?=::|$)", "", "".join(text(function).split()))
    return classify_name(name) == "pure"


def mark_algorithms(source: str, calls: list[AlgorithmCall]) -> str:
    """The source with each callee renamed to its parallel helper (same lines)."""
    data = source.encode()
    for call in sorted(calls, key=lambda c: c.start_byte, reverse=True):
        helper = f"ellora_parallel_{ALGORITHMS[call.name][0]}".encode()
        data = data[: call.start_byte] + helper + data[call.end_byte:]
    return data.decode()


def with_algorithm_helpers(source: str, target: str, calls: list[AlgorithmCall]) -> str:
    from ellora.tools.loops.text import after_includes, ensure_include

    for header in ("algorithm", "iterator", "numeric", "type_traits", "functional", "vector",
                   "memory") + (
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
        "result: the first match, the exact count, the first smallest or largest element, "
        "each element written once; sums reassociated; a range written while it partly "
        "overlaps its input, or of fewer than 4096 elements, runs the serial algorithm)"
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
// the first best index over [0, n): each thread's block gives its best (best(lo, hi)),
// combined in block order, so the earliest of equal candidates wins (better is strict)
template <class Best, class Better>
static long long ellora_parallel_best_index(long long n, Best best, Better better) {
  if (n <= 0) return 0;
  const int parts = omp_get_max_threads();
  std::vector<long long> found(parts, -1);
  #pragma omp parallel num_threads(parts)
  {
    const long long q = omp_get_num_threads(), p = omp_get_thread_num();
    const long long lo = n * p / q, hi = n * (p + 1) / q;
    if (lo < hi) found[p] = best(lo, hi);
  }
  long long at = -1;
  for (long long f : found) if (f >= 0 && (at < 0 || better(f, at))) at = f;
  return at;
}
template <class Body>
static void ellora_parallel_for(long long n, Body body) {
  #pragma omp parallel for schedule(static)
  for (long long i = 0; i < n; ++i) body(i);
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
template <class Best, class Better>
static long long ellora_parallel_best_index(long long n, Best best, Better better) {
  if (n <= 0) return 0;
  const long long parts = Kokkos::DefaultHostExecutionSpace().concurrency();
  std::vector<long long> found(parts, -1);
  long long* const out = found.data();
  Kokkos::parallel_for("ellora_best_index",
    Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, parts),
    [=](const long long p) {  // one block per thread, in block order
      const long long lo = n * p / parts, hi = n * (p + 1) / parts;
      if (lo < hi) out[p] = best(lo, hi);
    });
  long long at = -1;
  for (long long f : found) if (f >= 0 && (at < 0 || better(f, at))) at = f;
  return at;
}
template <class Body>
static void ellora_parallel_for(long long n, Body body) {
  Kokkos::parallel_for("ellora_for", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n),
    [=](const long long i) { body(i); });
}
""",
    "mpi": """\
// Ellora: parallel forms of standard algorithms (random-access ranges; others call std::).
// Every rank holds the whole range and gets the serial result.
// Windows of growing size, as the threaded form: each rank scans its part of a window and the
// ranks agree after each one, so a match ends the search about where the serial scan ends.
template <class Scan>
static long long ellora_parallel_min_index(long long n, Scan scan) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const long long prefix = std::min(n, 4096LL);  // every rank scans it: the same result
  long long first = scan(0LL, prefix);
  if (first < prefix) return first;
  first = n;
  for (long long w = prefix, width = 16384; w < n && first == n; w += width, width *= 2) {
    const long long end = std::min(n, w + width);
    const long long lo = w + (end - w) * rank / size, hi = w + (end - w) * (rank + 1) / size;
    long long at = scan(lo, hi);
    if (at >= hi) at = n;
    MPI_Allreduce(&at, &first, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  }
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
template <class Best, class Better>
static long long ellora_parallel_best_index(long long n, Best best, Better better) {
  if (n <= 0) return 0;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const long long lo = n * rank / size, hi = n * (rank + 1) / size;
  long long mine = lo < hi ? best(lo, hi) : -1;
  std::vector<long long> found(size);
  MPI_Allgather(&mine, 1, MPI_LONG_LONG, found.data(), 1, MPI_LONG_LONG, MPI_COMM_WORLD);
  long long at = -1;  // combined in rank order on every rank: the earliest best wins
  for (long long f : found) if (f >= 0 && (at < 0 || better(f, at))) at = f;
  return at;
}
""",
}

def _random(iterator: str) -> str:
    return ("std::is_base_of<std::random_access_iterator_tag, typename "
            f"std::iterator_traits<{iterator}>::iterator_category>::value")


def _lvalue(iterator: str) -> str:
    """Its elements are objects of their own (not std::vector<bool>'s bit proxies): threads
    may write neighbouring ones."""
    return f"std::is_lvalue_reference<typename std::iterator_traits<{iterator}>::reference>::value"


def _extreme(name: str, better: str, better_with: str) -> str:
    """std::min_element / std::max_element: each block's own, the first best of them."""
    return f"""template <class It>
static It ellora_parallel_{name}(It first, It last) {{
  if constexpr (!{_RANDOM}) return std::{name}(first, last);
  else {{
    if (first == last) return last;
    return first + ellora_parallel_best_index(last - first,
        [&](long long lo, long long hi) {{
          return static_cast<long long>(std::{name}(first + lo, first + hi) - first); }},
        [&](long long a, long long b) {{ return {better}; }});
  }}
}}
template <class It, class Compare>
static It ellora_parallel_{name}(It first, It last, Compare comp) {{
  if constexpr (!{_RANDOM}) return std::{name}(first, last, comp);
  else {{
    if (first == last) return last;
    return first + ellora_parallel_best_index(last - first,
        [&](long long lo, long long hi) {{
          return static_cast<long long>(std::{name}(first + lo, first + hi, comp) - first); }},
        [&](long long a, long long b) {{ return {better_with}; }});
  }}
}}
"""


_RANDOM = _random("It")
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
    "inner_product": f"""template <class It, class It2, class T>
static T ellora_parallel_inner_product(It first, It last, It2 first2, T init) {{
  if constexpr (!{_RANDOM} || !{_random("It2")} || !std::is_arithmetic<T>::value)
    return std::inner_product(first, last, first2, init);
  else return ellora_parallel_sum<T>(last - first, init,
      [&](long long i) {{ return static_cast<T>(first[i] * first2[i]); }});
}}
""",
    "reduce": f"""template <class It, class T>
static T ellora_parallel_reduce(It first, It last, T init) {{
  if constexpr (!{_RANDOM} || !std::is_arithmetic<T>::value)
    return std::accumulate(first, last, init);
  else return ellora_parallel_sum<T>(last - first, init,
      [&](long long i) {{ return static_cast<T>(first[i]); }});
}}
template <class It>
static typename std::iterator_traits<It>::value_type ellora_parallel_reduce(It first, It last) {{
  return ellora_parallel_reduce(first, last, typename std::iterator_traits<It>::value_type());
}}
""",
    "min_element": _extreme("min_element", "first[a] < first[b]", "comp(first[a], first[b])"),
    "max_element": _extreme("max_element", "first[b] < first[a]", "comp(first[b], first[a])"),
    "transform": f"""template <class A, class B>
static bool ellora_partly_overlapping(A a, B b, long long n) {{  // same start: elementwise
  const char* x = reinterpret_cast<const char*>(std::addressof(*a));
  const char* y = reinterpret_cast<const char*>(std::addressof(*b));
  const char* x_end = reinterpret_cast<const char*>(std::addressof(*(a + (n - 1)))) + sizeof(*a);
  const char* y_end = reinterpret_cast<const char*>(std::addressof(*(b + (n - 1)))) + sizeof(*b);
  std::less<const char*> before;
  return x != y && before(x, y_end) && before(y, x_end);
}}
template <class It, class Out, class Op>
static Out ellora_parallel_transform(It first, It last, Out out, Op op) {{
  if constexpr (!{_RANDOM} || !{_random("Out")} || !{_lvalue("Out")} || !{_lvalue("It")})
    return std::transform(first, last, out, op);
  else {{
    const long long n = last - first;
    if (n < 4096 || ellora_partly_overlapping(first, out, n))
      return std::transform(first, last, out, op);
    ellora_parallel_for(n, [&](long long i) {{ out[i] = op(first[i]); }});
    return out + n;
  }}
}}
template <class It, class It2, class Out, class Op>
static Out ellora_parallel_transform(It first, It last, It2 first2, Out out, Op op) {{
  if constexpr (!{_RANDOM} || !{_random("It2")} || !{_random("Out")} || !{_lvalue("Out")} ||
                !{_lvalue("It")} || !{_lvalue("It2")})
    return std::transform(first, last, first2, out, op);
  else {{
    const long long n = last - first;
    if (n < 4096 || ellora_partly_overlapping(first, out, n) ||
        ellora_partly_overlapping(first2, out, n))
      return std::transform(first, last, first2, out, op);
    ellora_parallel_for(n, [&](long long i) {{ out[i] = op(first[i], first2[i]); }});
    return out + n;
  }}
}}
""",
    "for_each": f"""template <class It, class F>
static F ellora_parallel_for_each(It first, It last, F f) {{
  if constexpr (!{_RANDOM} || !{_lvalue("It")}) return std::for_each(first, last, f);
  else {{
    const long long n = last - first;
    if (n < 4096) return std::for_each(first, last, f);
    ellora_parallel_for(n, [&](long long i) {{ f(first[i]); }});
    return f;
  }}
}}
""",
    "fill": f"""template <class It, class T>
static void ellora_parallel_fill(It first, It last, const T& value) {{
  if constexpr (!{_RANDOM} || !{_lvalue("It")}) std::fill(first, last, value);
  else {{
    const long long n = last - first;
    if (n < 4096) {{ std::fill(first, last, value); return; }}
    const T copy = value;  // the value may be an element of the range
    ellora_parallel_for(n, [&](long long i) {{ first[i] = copy; }});
  }}
}}
""",

}


for _target, _primitives in PRIMITIVES.items():
    _PRELUDE[_target] += _primitives
_FOLDS = fold_helpers(_RANDOM, _random("Out"), _lvalue("Out"))
_HELPERS["reduce"] += _FOLDS.pop("reduce")
_HELPERS.update(_FOLDS)
