"""Loops that append to lists (``out.push_back(v)``), for every target: the iterations are
dealt out in contiguous blocks, each block appends to a list of its own (the body
unchanged but for the list it names), and the lists are joined in block order after the
elements ``out`` held before the loop. OpenMP and Kokkos move each block's list into
``out`` in parallel at its offset; MPI gathers the lists (to every rank, or to rank 0)."""

from __future__ import annotations

from ellora.tools.loops.emit.common import Emission, LoopText, NotEmittable, mpi_type, pad_lines
from ellora.tools.loops.legality.verdict import Verdict


def emit_appends(verdict: Verdict, target: str, root: bool = False) -> Emission:
    text = LoopText(verdict)
    if verdict.loop.function.language != "cpp":
        raise NotEmittable("appends are lowered for C and C++ loops")
    others = [name for name, part in (
        ("a reduction", verdict.reducers), ("a scatter", verdict.scatters),
        ("a scan", verdict.scan), ("a search", verdict.search), ("an argmin/argmax",
                                                                   verdict.locate),
        ("a running value", verdict.recurrence), ("a value kept after the loop",
                                                   verdict.lastprivates),
        ("std::vector<bool> blocks", verdict.word_blocks)) if part]
    if others:
        raise NotEmittable(f"the loop appends to a list and also keeps {others[0]}: split it")
    header = text.header
    if not header.unit_step or (header.steps_in_test and not header.descending) or (
            header.descending and header.range_of is not None):
        raise NotEmittable("appends keep their order in a loop counting by one")
    if verdict.range_checks or verdict.block_checks or verdict.extent_checks:
        raise NotEmittable("the loop also needs a run-time range test")
    if target == "kokkos" and verdict.privates:
        raise NotEmittable("scalars declared outside the loop and set in it are shared by "
                           "the Kokkos host chunks: declare them inside the loop")
    lists = [append.base for append in verdict.appends]
    text.captures.update({name: f"ellora_part_{name}" for name in lists})
    if target == "openmp":
        code, includes = _openmp(text, lists), ("omp.h", "algorithm", "iterator", "vector",
                                                "type_traits")
    elif target == "kokkos":
        code, includes = _kokkos(text, lists), ("algorithm", "iterator", "vector",
                                                "type_traits")
    elif target == "mpi":
        code, includes = _mpi(text, lists, root), ("vector", "type_traits", "mpi.h")
    else:
        raise NotEmittable(f"no transformation for the target {target}")
    helpers: tuple[str, ...] = ()
    if target in ("openmp", "kokkos") and not text.model.inner:  # few iterations: serial
        from ellora.tools.loops.emit.openmp import MIN_TRIP_HELPER, small_trips_serial

        code = "{\n" + pad_lines(small_trips_serial(
            f"(long long)({header.upper_text}) - (long long)({header.lower_text}) >= "
            "ELLORA_MIN_PARALLEL_TRIP", code, text.original())) + "}"
        helpers = (MIN_TRIP_HELPER,)
    if verdict.versioned:  # the list may be another container the loop reads
        from ellora.tools.loops.emit.checks import guard_declaration

        agree = ""
        if target == "mpi":
            agree = (f"int ellora_all_apart = {text.guard} ? 1 : 0;\n"
                     "MPI_Allreduce(MPI_IN_PLACE, &ellora_all_apart, 1, MPI_INT, MPI_LAND, "
                     "MPI_COMM_WORLD);\n")
        test = "ellora_all_apart" if target == "mpi" else text.guard
        code = ("{\n" + pad_lines(guard_declaration(text) + agree + f"if ({test}) {code} "
                                  f"else {text.original()}") + "}")
    start, end = text.span()
    where = {"openmp": "each OpenMP thread", "kokkos": "each Kokkos host chunk",
             "mpi": "each MPI rank"}[target]
    joined = {"openmp": "moved into place by the threads at their offsets",
              "kokkos": "moved into place in parallel at their offsets",
              "mpi": "gathered in rank order (MPI_Gatherv to rank 0, as the task asks)"
              if root else "gathered in rank order to every rank (MPI_Allgatherv)"}[target]
    return Emission(
        start, end, text.reindent(code),
        f"appends in order: {where} runs a contiguous block of iterations and appends to a "
        f"list of its own; the lists are {joined}; " + "; ".join(verdict.facts),
        includes=includes, helpers=helpers)


def _block(text: LoopText, var: str = "ellora_t", count: str = "ellora_p") -> list[str]:
    """Block ``var`` of ``count``: counting down, the first block holds the highest
    iterations, so joining the lists in block order still gives the loop's order."""
    if text.header.descending:
        var = f"({count} - 1 - {var})"
    return [f"const long long ellora_b = ellora_lo + ellora_n * {var} / {count};",
            f"const long long ellora_e = ellora_lo + ellora_n * ({var} + 1) / {count};"]


def _block_loop(text: LoopText) -> str:
    """The block's iterations in the loop's own order."""
    if not text.header.descending:
        return text.block_loop("ellora_b", "ellora_e")
    body = pad_lines(text.body()).rstrip("\n")
    return ("for (long long ellora_k = ellora_e - 1; ellora_k >= ellora_b; --ellora_k) {\n"
            f"  {text.var_type} {text.var} = ({text.var_type})ellora_k;\n{body}\n}}")


def _range(text: LoopText) -> list[str]:
    return [(f"const long long ellora_lo = (long long)({text.header.lower_text}), "
            f"ellora_hi = (long long)({text.header.upper_text});"),
            "const long long ellora_n = ellora_hi > ellora_lo ? ellora_hi - ellora_lo : 0;"]


def _lists(lists: list[str], count: str) -> list[str]:
    lines = []
    for name in lists:
        lines += [f"const std::size_t ellora_base_{name} = {name}.size();",
                  f"std::vector<std::decay_t<decltype({name})>> ellora_parts_{name}({count});",
                  f"std::vector<std::size_t> ellora_at_{name}({count} + 1, 0);"]
    return lines


def _openmp(text: LoopText, lists: list[str]) -> str:
    privates = text.verdict.privates
    clause = f" private({', '.join(privates)})" if privates else ""
    parts = [f"auto& ellora_part_{name} = ellora_parts_{name}[ellora_t];" for name in lists]
    counted = [f"ellora_at_{name}[ellora_t + 1] = ellora_part_{name}.size();" for name in lists]
    joined = []
    for name in lists:
        joined += [(f"for (int t = 0; t < ellora_p; ++t) ellora_at_{name}[t + 1] += "
                   f"ellora_at_{name}[t];"),
                   f"{name}.resize(ellora_base_{name} + ellora_at_{name}[ellora_p]);"]
    moved = [f"std::move(ellora_part_{name}.begin(), ellora_part_{name}.end(), {name}.begin() "
             f"+ (std::ptrdiff_t)(ellora_base_{name} + ellora_at_{name}[ellora_t]));"
             for name in lists]
    region = [
        "const int ellora_t = omp_get_thread_num(), ellora_p = omp_get_num_threads();",
        *_block(text), *parts, _block_loop(text), *counted,
        "#pragma omp barrier",
        "#pragma omp single",
        "{\n" + pad_lines("\n".join(joined)) + "}",
        *moved]
    lines = [*_range(text), *_lists(lists, "omp_get_max_threads()"),
             f"#pragma omp parallel{clause}",
             "{\n" + pad_lines("\n".join(region)) + "}"]
    return "{\n" + pad_lines("\n".join(lines)) + "}"


def _kokkos(text: LoopText, lists: list[str]) -> str:
    host = "Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>"
    parts = [f"auto& ellora_part_{name} = ellora_parts_{name}[ellora_t];" for name in lists]
    joined, moved = [], []
    for name in lists:
        joined += [(f"for (long long t = 0; t < ellora_p; ++t) ellora_at_{name}[t + 1] = "
                   f"ellora_at_{name}[t] + ellora_parts_{name}[t].size();"),
                   f"{name}.resize(ellora_base_{name} + ellora_at_{name}[ellora_p]);"]
        moved.append(f"std::move(ellora_parts_{name}[ellora_t].begin(), "
                     f"ellora_parts_{name}[ellora_t].end(), {name}.begin() + (std::ptrdiff_t)"
                     f"(ellora_base_{name} + ellora_at_{name}[ellora_t]));")
    chunk = [*_block(text), *parts, _block_loop(text)]
    lines = [*_range(text),
             "const long long ellora_p = Kokkos::DefaultHostExecutionSpace().concurrency();",
             *_lists(lists, "ellora_p"),
             f'Kokkos::parallel_for("{text.label}_append", {host}(0, ellora_p),',
             "  [&](const long long ellora_t) {\n" + pad_lines("\n".join(chunk), "    ")
             + "  });",
             *joined,
             f'Kokkos::parallel_for("{text.label}_join", {host}(0, ellora_p),',
             "  [&](const long long ellora_t) {\n" + pad_lines("\n".join(moved), "    ")
             + "  });"]
    return "{\n" + pad_lines("\n".join(lines)) + "}"


def _mpi(text: LoopText, lists: list[str], root: bool) -> str:
    import re

    if re.search(r"\bint\s+main\s*\(", text.source):
        raise NotEmittable("the MPI transformation works on a function called under an MPI "
                           "harness; this file has main() (add MPI_Init/Finalize yourself)")
    kinds = {}
    for append in text.verdict.appends:
        kinds[append.base] = mpi_type(append.ctype.element)
    lines = ["int ellora_rank = 0, ellora_size = 1;",
             "MPI_Comm_rank(MPI_COMM_WORLD, &ellora_rank);",
             "MPI_Comm_size(MPI_COMM_WORLD, &ellora_size);",
             *_range(text), *_block(text, "ellora_rank", "ellora_size")]
    lines += [f"std::decay_t<decltype({name})> ellora_part_{name};" for name in lists]
    lines.append(_block_loop(text))
    for name in lists:
        kind = kinds[name]
        gather = (f"MPI_Gatherv(ellora_part_{name}.data(), ellora_mine, {kind}, {name}.data() + "
                  f"ellora_base, ellora_counts.data(), ellora_displs.data(), {kind}, 0, "
                  "MPI_COMM_WORLD);" if root else
                  f"MPI_Allgatherv(ellora_part_{name}.data(), ellora_mine, {kind}, "
                  f"{name}.data() + ellora_base, ellora_counts.data(), ellora_displs.data(), "
                  f"{kind}, MPI_COMM_WORLD);")
        resize = (f"if (ellora_rank == 0) {name}.resize(ellora_base + ellora_total);" if root
                  else f"{name}.resize(ellora_base + ellora_total);")
        lines.append("{\n" + pad_lines("\n".join([
            f"const int ellora_mine = (int)ellora_part_{name}.size();",
            "std::vector<int> ellora_counts(ellora_size), ellora_displs(ellora_size);",
            ("MPI_Allgather(&ellora_mine, 1, MPI_INT, ellora_counts.data(), 1, MPI_INT, "
            "MPI_COMM_WORLD);"),
            "long long ellora_total = 0;",
            ("for (int r = 0; r < ellora_size; ++r) { ellora_displs[r] = (int)ellora_total; "
            "ellora_total += ellora_counts[r]; }"),
            f"const std::size_t ellora_base = {name}.size();",
            resize, gather])) + "}")
    return "{\n" + pad_lines("\n".join(lines)) + "}"
