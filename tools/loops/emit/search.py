"""Searches: the first iteration that returns, argmin/argmax, and the last match.

- A first-match search scans windows of growing size (4096 iterations, then twice as many
  each time) with a min-index reduction, so an early match costs about what the serial
  loop costs; the body then runs once more, serially, at the index found, so it returns
  exactly what the serial loop returns. Under MPI every rank (each holds the input) scans
  the prefix, then each window is split over the ranks, each stopping at its first match,
  and the ranks agree on the smallest after each window.
- argmin/argmax: the extreme key in one reduction, then the first (or last, for ``<=``)
  index that reaches it in a second: ties and NaNs resolve as in the loop.
- A last match (``if (c) last = i;``) is a max-index reduction.
"""

from __future__ import annotations

from ellora.tools.loops.emit.common import Emission, LoopText, NotEmittable, mpi_type, pad_lines

_PREFIX = 4096  # iterations scanned serially first: an early match costs what it costs serially
_WINDOW = 4 * _PREFIX


def emit_search(text: LoopText, target: str) -> Emission:
    verdict = text.verdict
    if not text.header.unit_step or (text.header.descending and verdict.search is None):
        raise NotEmittable("a search over a strided loop, or an argmin/argmax counting down, "
                           "is not transformed")
    if verdict.versioned:
        raise NotEmittable("a search behind a run-time check is not transformed")
    if verdict.search is not None:
        code, how = _first_match(text, target)
    else:
        code, how = _locate(text, target)
    start, end = text.span()
    includes = ("algorithm", "limits", "type_traits") + (
        ("mpi.h",) if target == "mpi" else ("omp.h",) if target == "openmp" else ())
    return Emission(start, end, text.reindent(code), how + "; " + "; ".join(verdict.facts),
                    includes=includes, kokkos=target == "kokkos")


def _range_lines(text: LoopText) -> str:
    return (f"const long long ellora_lo = (long long)({text.header.lower_text}), "
            f"ellora_hi = (long long)({text.header.upper_text});\n")


def _body_with(text: LoopText, statement, replacement: str) -> str:
    """The loop body (as a block) with ``statement`` replaced."""
    return text.body([(statement.start_byte, statement.end_byte, replacement)])


def _indexed(text: LoopText, body: str) -> str:
    """A body run for iteration ``ellora_m`` (the loop variable declared from it). The
    search runs ``ellora_m`` upwards in the loop's own order: counting down, it is the
    ``ellora_m - ellora_lo``-th iteration from the top."""
    value = "(ellora_lo + ellora_hi - 1 - ellora_m)" if text.header.descending else "ellora_m"
    return f"{{ const {text.var_type} {text.var} = ({text.var_type}){value}; {body} }}"


def _fold(text: LoopText, target: str, accumulator: str, kind: str, operator: str,
          body: str, lower: str = "ellora_lo", upper: str = "ellora_hi") -> str:
    """Code that folds ``body`` (which updates ``accumulator``) over [lower, upper)."""
    loop = f"for (long long ellora_m = {lower}; ellora_m < {upper}; ++ellora_m)"
    if target == "openmp":
        return (f"#pragma omp parallel for schedule(static) reduction({operator}:"
                f"{accumulator})\n{loop} {_indexed(text, body)}\n")
    if target == "kokkos":
        reducer = {"min": "Kokkos::Min", "max": "Kokkos::Max"}[operator]
        compare = "<" if operator == "min" else ">"
        return (f"{{\n  {kind} ellora_result;\n"
                f'  Kokkos::parallel_reduce("{text.label}", '
                f"Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>({lower}, {upper}),\n"
                f"    KOKKOS_LAMBDA(const long long ellora_m, {kind}& {accumulator}) "
                f"{_indexed(text, body)},\n    {reducer}<{kind}>(ellora_result));\n"
                f"  if (ellora_result {compare} {accumulator}) {accumulator} = ellora_result;\n"
                "}\n")
    mpi_kind = "MPI_LONG_LONG" if kind == "long long" else kind
    return (f"{{\n  const long long ellora_n = {upper} > {lower} ? {upper} - {lower} : 0;\n"
            f"  for (long long ellora_m = {lower} + ellora_n * ellora_rank / ellora_size; "
            f"ellora_m < {lower} + ellora_n * (ellora_rank + 1) / ellora_size; ++ellora_m) "
            f"{_indexed(text, body)}\n"
            f"  {{ {kind} ellora_value = {accumulator};  // the accumulator stays a register\n"
            f"    MPI_Allreduce(MPI_IN_PLACE, &ellora_value, 1, {mpi_kind}, "
            f"{'MPI_MIN' if operator == 'min' else 'MPI_MAX'}, MPI_COMM_WORLD);\n"
            f"    {accumulator} = ellora_value; }}\n}}\n")


def _mpi_head(target: str) -> str:
    if target != "mpi":
        return ""
    return ("int ellora_rank = 0, ellora_size = 1;\n"
            "MPI_Comm_rank(MPI_COMM_WORLD, &ellora_rank);\n"
            "MPI_Comm_size(MPI_COMM_WORLD, &ellora_size);\n")


def _first_match(text: LoopText, target: str) -> tuple[str, str]:
    search = text.verdict.search
    returned = search.statement.child_by_field_name("consequence")
    mark = "{ if (ellora_m < ellora_first) ellora_first = ellora_m; }"
    probe = _body_with(text, _exit_branch(search), mark)
    window = ("const long long ellora_prefix = std::min(ellora_hi, ellora_lo + "
              f"{_PREFIX});\n"
              "for (long long ellora_m = ellora_lo; ellora_m < ellora_prefix && "
              f"ellora_first == ellora_hi; ++ellora_m) {_indexed(text, probe)}\n"
              f"for (long long ellora_w = ellora_prefix, ellora_width = {_WINDOW}; "
              "ellora_w < ellora_hi && ellora_first == ellora_hi; "
              "ellora_w += ellora_width, ellora_width *= 2) {\n"
              "  const long long ellora_w_end = std::min(ellora_hi, ellora_w + "
              "ellora_width);\n"
              + pad_lines(_window_scan(text, target, probe)) + "}\n")
    scan = _mpi_head(target) + window
    if target == "mpi":
        how = (f"MPI first-match search: the first {_PREFIX} iterations on every rank (each "
               "has the input), then windows of growing size split over the ranks, each "
               "rank stopping at its first match and the ranks agreeing on the smallest "
               "with MPI_Allreduce(MIN) (an early match stops the scan), then the body runs "
               "again at the index found")
    else:
        how = (f"first-match search: the first {_PREFIX} iterations serially, then windows of "
               "growing size with a min-index reduction (an early match stops the scan), then "
               "the body runs again at the index found")
    rerun = (f"if (ellora_first < ellora_hi) {{\n"
             f"  {text.loop_head(f'({text.var_type})ellora_first')} {text.body()}\n}}\n")
    if text.header.descending:  # on from the match, downwards as the loop runs
        rerun = ("if (ellora_first < ellora_hi) {\n"
                 "  for (long long ellora_k = ellora_lo + ellora_hi - 1 - ellora_first; "
                 "ellora_k >= ellora_lo; --ellora_k) "
                 f"{{ {text.var_type} {text.var} = ({text.var_type})ellora_k; {text.body()} }}"
                 "\n}\n")
    del returned
    return ("{\n" + pad_lines(_range_lines(text) + "long long ellora_first = ellora_hi;  // none yet\n"
                         + scan + rerun) + "}"), how


def _window_scan(text: LoopText, target: str, probe: str) -> str:
    """The first match in [ellora_w, ellora_w_end) into ``ellora_first``. Under OpenMP each
    thread scans its own block serially and stops at its first match (a reduction over every
    iteration runs the whole window and costs twice the serial loop at one thread); the
    private ``ellora_first`` starts at the largest value, so ``ellora_m < ellora_first`` holds
    until the block's match."""
    if target == "mpi":  # each rank its part of the window, stopping at its first match
        return ("{\n  const long long ellora_from = ellora_w + (ellora_w_end - ellora_w) * "
                "ellora_rank / ellora_size,\n      ellora_to = ellora_w + (ellora_w_end - "
                "ellora_w) * (ellora_rank + 1) / ellora_size;\n"
                "  for (long long ellora_m = ellora_from; ellora_m < ellora_to && "
                f"ellora_m < ellora_first; ++ellora_m) {_indexed(text, probe)}\n"
                "  long long ellora_value = ellora_first;  // ellora_first stays a register\n"
                "  MPI_Allreduce(MPI_IN_PLACE, &ellora_value, 1, MPI_LONG_LONG, MPI_MIN, "
                "MPI_COMM_WORLD);\n  ellora_first = ellora_value;\n}\n")
    if target != "openmp":
        return _fold(text, target, "ellora_first", "long long", "min", probe, "ellora_w",
                     "ellora_w_end")
    return ("#pragma omp parallel reduction(min:ellora_first)\n{\n"
            "  const long long ellora_parts = omp_get_num_threads(), "
            "ellora_part = omp_get_thread_num();\n"
            "  const long long ellora_from = ellora_w + (ellora_w_end - ellora_w) * ellora_part "
            "/ ellora_parts,\n"
            "      ellora_to = ellora_w + (ellora_w_end - ellora_w) * (ellora_part + 1) / "
            "ellora_parts;\n"
            "  for (long long ellora_m = ellora_from; ellora_m < ellora_to && "
            f"ellora_m < ellora_first; ++ellora_m) {_indexed(text, probe)}\n}}\n")


def _exit_branch(search):
    """The branch that leaves the loop (``return r;``, or the assignments and the break):
    the probe marks the iteration instead of running it."""
    return search.statement.child_by_field_name("consequence")


def _locate(text: LoopText, target: str) -> tuple[str, str]:
    locate = text.verdict.locate
    if locate.operator == "last_match":
        return _last_match(text, target)
    key = text.rewrite(locate.key)
    better = "<" if locate.operator == "min" else ">"
    if locate.best is not None:
        start = locate.best
        kind = text.declared_spelling(locate.best)
    else:
        start = text.rewrite(locate.key, {text.var: locate.index})
        kind = f"std::decay_t<decltype({start})>"
    if target == "mpi":
        key_type = locate.best_type or _key_element_type(text, locate.key)
        if key_type is None or key_type.kind in ("auto", "unknown"):
            raise NotEmittable("the MPI argmin/argmax needs a key with a declared type")
        kind, mpi_key = key_type.name, mpi_type(key_type)
    statement = locate.statement
    find_key = _body_with(text, statement, f"{{ if (({key}) {better} ellora_key) ellora_key = "
                                           f"({key}); }}")
    if target == "openmp":
        return _locate_one_pass(text, locate, key, kind, start, better)
    if target == "mpi":
        return _locate_one_pass_mpi(text, locate, key, kind, start, better)
    equal = "<" if locate.strict else ">"
    pick = "min" if locate.strict else "max"
    find_index = _body_with(text, statement, (
        f"{{ if (({key}) == ellora_key && ellora_m {equal} ellora_index) ellora_index = "
        "ellora_m; }"))
    key_fold = _fold(text, target, "ellora_key", "ellora_key_t" if target != "mpi" else kind,
                     locate.operator, find_key)
    if target == "mpi":
        key_fold = key_fold.replace("ellora_key_t", kind).replace(
            f", {kind}, MPI_", f", {mpi_key}, MPI_")
    admit = f"ellora_key {better} ellora_start" if locate.strict else \
        f"!(ellora_start {better} ellora_key)"
    assign = [f"const {text.var_type} {text.var} = ({text.var_type})ellora_index;"]
    if locate.best is not None:
        assign.append(f"{locate.best} = ellora_key;")
    assign.append(f"{locate.index} = {text.rewrite(locate.index_value)};")
    found = (f"typedef {kind} ellora_key_t;\n"
             f"const ellora_key_t ellora_start = {start};\n"
             "ellora_key_t ellora_key = ellora_start;\n" + key_fold
             + f"if ({admit}) {{\n"
             + f"  long long ellora_index = {'ellora_hi' if locate.strict else 'ellora_lo - 1'};\n"
             + pad_lines(_fold(text, target, "ellora_index", "long long", pick, find_index))
             + "  if (ellora_index >= ellora_lo && ellora_index < ellora_hi) {\n"
             + pad_lines("\n".join(assign), "    ") + "  }\n}\n")
    # the starting key is read only when the loop runs (the serial loop reads nothing else)
    code = (_mpi_head(target) + _range_lines(text)
            + "if (ellora_hi > ellora_lo) {\n" + pad_lines(found) + "}\n")
    how = (f"arg{locate.operator} in two reductions: the {locate.operator}imum key, then the "
           f"{'first' if locate.strict else 'last'} {text.var} that reaches it (the loop's "
           "tie-breaking)")
    return "{\n" + pad_lines(code) + "}", how


def _best_pair_parts(text: LoopText, locate, key: str, compare: str) -> tuple[str, list[str]]:
    """The body that keeps ``ellora_best`` (key, index) as the loop does, and the statements
    that set the loop's variables from the combined pair."""
    probe = _body_with(text, locate.statement, (
        f"{{ if (({key}) {compare} ellora_best.key) {{ ellora_best.key = ({key}); "
        "ellora_best.index = ellora_m; } }"))
    assign = [f"const {text.var_type} {text.var} = ({text.var_type})ellora_best.index;"]
    if locate.best is not None:
        assign.append(f"{locate.best} = ellora_best.key;")
    assign.append(f"{locate.index} = {text.rewrite(locate.index_value)};")
    return probe, assign


def _locate_one_pass(text: LoopText, locate, key: str, kind: str, start: str,
                     better: str) -> tuple[str, str]:
    """OpenMP argmin/argmax in one pass: each thread keeps (key, index) of its chunk as the
    loop does (``<`` keeps the first of equal keys, ``<=`` the last), and a declared
    reduction combines the threads' pairs with the same rule across chunks."""
    compare = better if locate.strict else better + "="
    prefer = "<" if locate.strict else ">"  # among equal keys: the first (<) or last index
    probe, assign = _best_pair_parts(text, locate, key, compare)
    combine = (f"omp_out = (omp_in.index >= 0 && (omp_out.index < 0 || omp_in.key {better} "
               f"omp_out.key || (!(omp_out.key {better} omp_in.key) && omp_in.index {prefer} "
               "omp_out.index))) ? omp_in : omp_out")
    found = (f"typedef {kind} ellora_key_t;\n"
             "struct ellora_best_t { ellora_key_t key; long long index; };\n"
             f"#pragma omp declare reduction(ellora_best_of : ellora_best_t : {combine}) "
             "initializer(omp_priv = omp_orig)\n"
             f"ellora_best_t ellora_best = {{{start}, -1}};  // -1: nothing beat the start\n"
             "#pragma omp parallel for schedule(static) reduction(ellora_best_of:ellora_best)\n"
             f"for (long long ellora_m = ellora_lo; ellora_m < ellora_hi; ++ellora_m) "
             f"{_indexed(text, probe)}\n"
             "if (ellora_best.index >= 0) {\n" + pad_lines("\n".join(assign)) + "}\n")
    code = _range_lines(text) + "if (ellora_hi > ellora_lo) {\n" + pad_lines(found) + "}\n"
    how = (f"arg{locate.operator} in one pass: each thread keeps its chunk's (key, index) as "
           "the loop does and a declared reduction combines them with the loop's tie-breaking")
    return "{\n" + pad_lines(code) + "}", how


def _locate_one_pass_mpi(text: LoopText, locate, key: str, kind: str, start: str,
                         better: str) -> tuple[str, str]:
    """MPI argmin/argmax in one pass: each rank keeps (key, index) of its block as the loop
    does, the pairs are gathered (one per rank, as bytes) and combined in rank order (the
    blocks' order) with the loop's own comparison, so ties resolve as the serial loop's."""
    compare = better if locate.strict else better + "="
    probe, assign = _best_pair_parts(text, locate, key, compare)
    found = (f"typedef {kind} ellora_key_t;\n"
             "struct ellora_best_t { ellora_key_t key; long long index; };\n"
             f"ellora_best_t ellora_best = {{{start}, -1}};  // -1: nothing beat the start\n"
             "const long long ellora_n = ellora_hi - ellora_lo;\n"
             "for (long long ellora_m = ellora_lo + ellora_n * ellora_rank / ellora_size; "
             "ellora_m < ellora_lo + ellora_n * (ellora_rank + 1) / ellora_size; ++ellora_m) "
             f"{_indexed(text, probe)}\n"
             "std::vector<ellora_best_t> ellora_bests(ellora_size);\n"
             "{ const ellora_best_t ellora_mine = ellora_best;  // ellora_best stays in registers\n"
             "  MPI_Allgather(&ellora_mine, (int)sizeof(ellora_best_t), MPI_BYTE, "
             "ellora_bests.data(), (int)sizeof(ellora_best_t), MPI_BYTE, MPI_COMM_WORLD); }\n"
             f"ellora_best = ellora_best_t{{{start}, -1}};\n"
             "for (int ellora_r = 0; ellora_r < ellora_size; ++ellora_r)  // in the blocks' order\n"
             f"  if (ellora_bests[ellora_r].index >= 0 && ellora_bests[ellora_r].key {compare} "
             "ellora_best.key) ellora_best = ellora_bests[ellora_r];\n"
             "if (ellora_best.index >= 0) {\n" + pad_lines("\n".join(assign)) + "}\n")
    code = (_mpi_head("mpi") + _range_lines(text)
            + "if (ellora_hi > ellora_lo) {\n" + pad_lines(found) + "}\n")
    how = (f"arg{locate.operator} in one pass: each rank keeps its block's (key, index) as the "
           "loop does; the pairs are gathered (MPI_Allgather) and combined in rank order with "
           "the loop's tie-breaking")
    return "{\n" + pad_lines(code) + "}", how


def _key_element_type(text: LoopText, key):
    """The element type when the key is an element ``x[i]`` of a known base."""
    from ellora.tools.loops.cpp.reader import strip

    key = strip(key)
    if key is None or key.type != "subscript_expression":
        return None
    base = strip(key.child_by_field_name("argument"))
    found = text.model.bases.get(base.text.decode()) if base is not None else None
    return found.element if found is not None else None


def _last_match(text: LoopText, target: str) -> tuple[str, str]:
    locate = text.verdict.locate
    condition = text.rewrite(locate.condition)
    probe = _body_with(text, locate.statement,
                       f"{{ if ({condition}) {{ if (ellora_m > ellora_last) ellora_last = ellora_m; }} }}")
    code = (_mpi_head(target) + _range_lines(text)
            + "long long ellora_last = ellora_lo - 1;  // none yet\n"
            + _fold(text, target, "ellora_last", "long long", "max", probe)
            + "if (ellora_last >= ellora_lo) {\n"
            + f"  const {text.var_type} {text.var} = ({text.var_type})ellora_last;\n"
            + f"  {locate.index} = {text.rewrite(locate.index_value)};\n}}\n")
    return "{\n" + pad_lines(code) + "}", ("the last match as a max-index reduction (the last "
                                      f"{text.var} where the condition holds)")
