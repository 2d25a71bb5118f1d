"""Folds and scans with the caller's operation: ``std::reduce(first, last, init, op)``,
``std::inclusive_scan`` and ``std::exclusive_scan`` (with ``std::plus`` or the caller's op
and init). The standard lets these regroup the operation (it must be associative, and for
``reduce`` commutative too), so a block per thread or rank, each folded from its first
element, and the blocks combined in block order, is the same algorithm. A scan makes two
passes: each block's fold, then each block rewritten from the carry of the blocks before
it. Every target supplies two primitives; under MPI every rank holds the whole range and
gets the whole result (the blocks' values gathered to every rank).
"""

from __future__ import annotations

# name -> helper suffix, argument counts (first, last[, out], ...)
FOLDS = {"std::reduce": ("reduce", (4,)),
         "std::inclusive_scan": ("inclusive_scan", (3, 4, 5)),
         "std::exclusive_scan": ("exclusive_scan", (4, 5))}
# where the caller's operation sits, by argument count
OPERATION_AT = {"std::reduce": {4: 3}, "std::inclusive_scan": {4: 3, 5: 3},
                "std::exclusive_scan": {5: 4}}
SCANS = ("std::inclusive_scan", "std::exclusive_scan")

PRIMITIVES = {
    "openmp": """\
// fold(lo, hi) of each block of [0, n), combined in block order from init
template <class T, class Fold, class Combine>
static T ellora_parallel_fold(long long n, T init, Fold fold, Combine combine) {
  const int parts = omp_get_max_threads();
  std::unique_ptr<T[]> sums(new T[parts]);
  std::unique_ptr<char[]> has(new char[parts]());
  #pragma omp parallel num_threads(parts)
  {
    const long long q = omp_get_num_threads(), p = omp_get_thread_num();
    const long long lo = n * p / q, hi = n * (p + 1) / q;
    if (lo < hi) { sums[p] = fold(lo, hi); has[p] = 1; }
  }
  T acc = init;
  for (int p = 0; p < parts; ++p) if (has[p]) acc = combine(acc, sums[p]);
  return acc;
}
// pass 1: fold(lo, hi) per block; pass 2: write(lo, hi, have, carry), carry combining init
// (when have_init) and the blocks before, in order
template <class T, class Fold, class Combine, class Write, class Out>
static void ellora_parallel_scan(long long n, bool have_init, T init, Fold fold,
                                 Combine combine, Write write, Out) {
  const int parts = omp_get_max_threads();
  std::unique_ptr<T[]> sums(new T[parts]);
  std::unique_ptr<char[]> has(new char[parts]());
  #pragma omp parallel num_threads(parts)
  {
    const long long q = omp_get_num_threads(), p = omp_get_thread_num();
    const long long lo = n * p / q, hi = n * (p + 1) / q;
    if (lo < hi) { sums[p] = fold(lo, hi); has[p] = 1; }
    #pragma omp barrier
    bool have = have_init;
    T carry = init;
    for (long long b = 0; b < p; ++b)
      if (has[b]) { carry = have ? combine(carry, sums[b]) : sums[b]; have = true; }
    if (lo < hi) write(lo, hi, have, carry);
  }
}
""",
    "kokkos": """\
template <class T, class Fold, class Combine>
static T ellora_parallel_fold(long long n, T init, Fold fold, Combine combine) {
  const long long parts = Kokkos::DefaultHostExecutionSpace().concurrency();
  std::unique_ptr<T[]> sums(new T[parts]);
  std::unique_ptr<char[]> has(new char[parts]());
  T* const s = sums.get();
  char* const h = has.get();
  Kokkos::parallel_for("ellora_fold", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, parts),
    [=](const long long p) {
      const long long lo = n * p / parts, hi = n * (p + 1) / parts;
      if (lo < hi) { s[p] = fold(lo, hi); h[p] = 1; }
    });
  T acc = init;
  for (long long p = 0; p < parts; ++p) if (has[p]) acc = combine(acc, sums[p]);
  return acc;
}
template <class T, class Fold, class Combine, class Write, class Out>
static void ellora_parallel_scan(long long n, bool have_init, T init, Fold fold,
                                 Combine combine, Write write, Out) {
  const long long parts = Kokkos::DefaultHostExecutionSpace().concurrency();
  std::unique_ptr<T[]> sums(new T[parts]), carries(new T[parts]);
  std::unique_ptr<char[]> has(new char[parts]()), haves(new char[parts]());
  T* const s = sums.get();
  T* const c = carries.get();
  char* const h = has.get();
  char* const hv = haves.get();
  Kokkos::parallel_for("ellora_scan_sums", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, parts),
    [=](const long long p) {
      const long long lo = n * p / parts, hi = n * (p + 1) / parts;
      if (lo < hi) { s[p] = fold(lo, hi); h[p] = 1; }
    });
  bool have = have_init;
  T carry = init;
  for (long long p = 0; p < parts; ++p) {
    c[p] = carry; hv[p] = have;
    if (h[p]) { carry = have ? combine(carry, s[p]) : s[p]; have = true; }
  }
  Kokkos::parallel_for("ellora_scan_blocks", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, parts),
    [=](const long long p) {
      const long long lo = n * p / parts, hi = n * (p + 1) / parts;
      if (lo < hi) write(lo, hi, hv[p] != 0, c[p]);
    });
}
""",
    "mpi": """\
// each rank folds its block; every rank receives each block's value (as bytes) and whether
// the block had elements
template <class T, class Fold>
static void ellora_rank_folds(long long n, const T& init, Fold fold, T* sums, int* has) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const long long lo = n * rank / size, hi = n * (rank + 1) / size;
  T mine = init;
  const int own = lo < hi ? 1 : 0;
  if (own) mine = fold(lo, hi);
  MPI_Allgather(&mine, sizeof(T), MPI_BYTE, sums, sizeof(T), MPI_BYTE, MPI_COMM_WORLD);
  MPI_Allgather(&own, 1, MPI_INT, has, 1, MPI_INT, MPI_COMM_WORLD);
}
// the blocks' values combined in rank order on every rank (a value that is not trivially
// copyable is folded serially)
template <class T, class Fold, class Combine>
static T ellora_parallel_fold(long long n, T init, Fold fold, Combine combine) {
  if constexpr (!std::is_trivially_copyable<T>::value) {
    return n > 0 ? combine(init, fold(0LL, n)) : init;
  } else {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    std::unique_ptr<T[]> sums(new T[size]);  // not std::vector: T may be bool
    std::vector<int> has(size);
    ellora_rank_folds(n, init, fold, sums.get(), has.data());
    T acc = init;
    for (int r = 0; r < size; ++r) if (has[r]) acc = combine(acc, sums[r]);
    return acc;
  }
}
// each rank scans its block from the carry of the blocks before it, then the blocks'
// output elements are gathered so every rank holds the whole output
template <class T, class Fold, class Combine, class Write, class Out>
static void ellora_parallel_scan(long long n, bool have_init, T init, Fold fold,
                                 Combine combine, Write write, Out out) {
  typedef typename std::iterator_traits<Out>::value_type V;
  if constexpr (!std::is_trivially_copyable<T>::value || !std::is_trivially_copyable<V>::value) {
    if (n > 0) write(0LL, n, have_init, init);
  } else {
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const long long lo = n * rank / size, hi = n * (rank + 1) / size;
    std::unique_ptr<T[]> sums(new T[size]);  // not std::vector: T may be bool
    std::vector<int> has(size);
    ellora_rank_folds(n, init, fold, sums.get(), has.data());
    const bool own = has[rank] != 0;
    bool have = have_init;
    T carry = init;
    for (int r = 0; r < rank; ++r)
      if (has[r]) { carry = have ? combine(carry, sums[r]) : sums[r]; have = true; }
    if (own) write(lo, hi, have, carry);
    std::vector<int> counts(size), displs(size);
    for (int r = 0; r < size; ++r) {
      counts[r] = (int)((n * (r + 1) / size - n * r / size) * (long long)sizeof(V));
      displs[r] = (int)(n * r / size * (long long)sizeof(V));
    }
    std::vector<V> all(n), block(out + lo, out + hi);
    MPI_Allgatherv(block.data(), counts[rank], MPI_BYTE, all.data(), counts.data(),
                   displs.data(), MPI_BYTE, MPI_COMM_WORLD);
    for (long long k = 0; k < n; ++k) if (k < lo || k >= hi) out[k] = all[k];
  }
}
""",
}


def helpers(random: str, random_out: str, lvalue_out: str) -> dict[str, str]:
    """The helper per suffix, given the C++ tests that ``It`` and ``Out`` are random-access
    and that ``Out`` names objects (not vector<bool> bit proxies)."""
    scan_ok = f"{random} && {random_out} && {lvalue_out}"
    fold = ("[&](long long lo, long long hi) {\n"
            "        T acc = first[lo];\n"
            "        for (long long k = lo + 1; k < hi; ++k) acc = op(acc, first[k]);\n"
            "        return acc; }")
    inclusive = ("[&](long long lo, long long hi, bool have, const T& carry) {\n"
                 "        T acc = have ? op(carry, first[lo]) : T(first[lo]);\n"
                 "        out[lo] = acc;\n"
                 "        for (long long k = lo + 1; k < hi; ++k) { acc = op(acc, first[k]); "
                 "out[k] = acc; } }")
    exclusive = ("[&](long long lo, long long hi, bool, const T& carry) {\n"
                 "        T acc = carry;\n"
                 "        for (long long k = lo; k < hi; ++k) { const T value = first[k]; "
                 "out[k] = acc; acc = op(acc, value); } }")

    def scan(name: str, template: str, call: str, have_init: str, init: str,
             write: str, typedef: str = "") -> str:
        return f"""template <{template}>
static Out ellora_parallel_{name}({call}) {{
{typedef}  if constexpr (!({scan_ok})) return std::{name}({_arguments(call)});
  else {{
    const long long n = last - first;
    if (n < 4096) return std::{name}({_arguments(call)});
    ellora_parallel_scan<T>(n, {have_init}, {init}, {fold}, op,
      {write},
      out);
    return out + n;
  }}
}}
"""

    return {
        "reduce": f"""template <class It, class T, class Op>
static T ellora_parallel_reduce(It first, It last, T init, Op op) {{
  if constexpr (!{random}) return std::reduce(first, last, init, op);
  else {{
    const long long n = last - first;
    if (n < 4096) return std::reduce(first, last, init, op);
    return ellora_parallel_fold<T>(n, init, {fold}, op);
  }}
}}
""",
        "inclusive_scan": scan(
            "inclusive_scan", "class It, class Out, class Op", "It first, It last, Out out, Op op",
            "false", "T()", inclusive,
            "  typedef typename std::iterator_traits<It>::value_type T;\n")
        + """template <class It, class Out>
static Out ellora_parallel_inclusive_scan(It first, It last, Out out) {
  return ellora_parallel_inclusive_scan(first, last, out, std::plus<>());
}
"""
        + scan("inclusive_scan", "class It, class Out, class Op, class T",
               "It first, It last, Out out, Op op, T init", "true", "init", inclusive),
        "exclusive_scan": scan(
            "exclusive_scan", "class It, class Out, class T, class Op",
            "It first, It last, Out out, T init, Op op", "true", "init", exclusive)
        + """template <class It, class Out, class T>
static Out ellora_parallel_exclusive_scan(It first, It last, Out out, T init) {
  return ellora_parallel_exclusive_scan(first, last, out, init, std::plus<>());
}
""",
    }


def _arguments(parameters: str) -> str:
    """``It first, It last, Out out`` -> ``first, last, out``."""
    return ", ".join(p.split()[-1] for p in parameters.split(","))
