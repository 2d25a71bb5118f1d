"""MPI lowering: block decomposition of the iterations over the ranks of MPI_COMM_WORLD.

Every rank ends with what the serial loop computes: reductions are combined with
``MPI_Allreduce``, elements and rows each rank wrote are gathered to every rank with an
in-place ``MPI_Allgatherv``, running values start each rank's block from the blocks before
it (one value per rank gathered, combined in order with the loop's own operation). The
caller initializes MPI; a file with ``main()`` is not rewritten.
"""

from __future__ import annotations

import re

from ellora.tools.loops.emit.common import Emission, LoopText, NotEmittable, mpi_type, pad_lines
from ellora.tools.loops.emit.scatter import _mpi_block_lines
from ellora.tools.loops.expr import Poly

_OPS = {"+": "MPI_SUM", "*": "MPI_PROD", "max": "MPI_MAX", "min": "MPI_MIN",
        "&&": "MPI_LAND", "||": "MPI_LOR", "&": "MPI_BAND", "|": "MPI_BOR", "^": "MPI_BXOR"}
_IDENTITY = {"+": "0", "*": "1", "&": "~0", "|": "0", "^": "0", "&&": "1", "||": "0"}


def emit_mpi(verdict, root: bool = False) -> Emission:
    """``root``: the results are needed on rank 0 only (the task says so): gathers and
    reductions go to rank 0, which saves the traffic back to the other ranks."""
    text = LoopText(verdict)
    text.mpi_root = root
    if re.search(r"\bint\s+main\s*\(", text.source):
        raise NotEmittable("the MPI transformation works on a function called under an MPI "
                           "harness; this file has main() (add MPI_Init/Finalize yourself)")
    if not text.header.unit_step:
        raise NotEmittable(f"{text.var} steps by {text.header.step_text}: strided loops are not "
                           "decomposed over MPI ranks")
    if verdict.word_blocks:
        raise NotEmittable("a std::vector<bool> has no contiguous storage to gather")
    if verdict.lastprivates:
        raise NotEmittable("a value kept after the loop (lastprivate) is not sent between ranks")
    if verdict.search is not None or verdict.locate is not None:
        from ellora.tools.loops.emit.search import emit_search

        emission = emit_search(text, "mpi")
        emission.includes = (*emission.includes, "mpi.h")
        return _versioned(text, emission)
    if verdict.scatters:
        from ellora.tools.loops.emit.scatter import emit_scatter

        return _placed(text, _versioned(text, emit_scatter(text, "mpi")))
    if verdict.scan is not None or verdict.recurrence is not None:
        return _placed(text, _versioned(text, _running(text)))
    return _placed(text, _versioned(text, _blocks(text)))


def _placed(text: LoopText, emission: Emission) -> Emission:
    if text.mpi_root:
        emission.explanation += ("; the results are complete on rank 0 only, as the task "
                                 "asks (gathers and reductions to rank 0)")
    return emission


def _versioned(text: LoopText, emission: Emission) -> Emission:
    """Behind a run-time check every rank must take the same branch: they agree first."""
    verdict = text.verdict
    if not verdict.versioned:
        return emission
    from ellora.tools.loops.emit.checks import guard_declaration

    indent = text.indent
    parallel = emission.code.replace("\n" + indent, "\n")
    code = ("{\n" + pad_lines(
        guard_declaration(text)
        + f"int ellora_all_apart = {text.guard} ? 1 : 0;\n"
        "MPI_Allreduce(MPI_IN_PLACE, &ellora_all_apart, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);\n"
        f"if (ellora_all_apart) {parallel} else {text.original()}") + "}")
    emission.code = text.reindent(code)
    emission.apart_helper = bool(verdict.range_checks)
    emission.includes = (*emission.includes, "algorithm", "cstdint", "initializer_list",
                         "limits")
    return emission


def _gathers(text: LoopText, owned_writes=None) -> list[str]:
    """In-place gathers (to every rank, or to rank 0) of what each rank wrote: elements
    ``[i + c]``, rows ``[(i + c) * E + j]`` or columns ``[j * E + i + c]`` (j proved in
    [0, E)), over the span the legality result bounds. Unwritten elements inside a span (the
    columns between two rows, a guarded write's skipped elements) are each rank's own copy:
    every rank starts from the same arrays. A local array nothing reads after the loop is
    not gathered."""
    lines = []
    for owned in text.verdict.owned if owned_writes is None else owned_writes:
        if owned.base in text.model.confined:
            continue
        base = text.model.bases[owned.base]
        element = base.ctype.element
        if base.ctype.kind not in ("pointer", "vector", "std_array", "array", "string") or \
                any(len(a.indices) != 1 for a in text.model.accesses_of(owned.base)) or \
                element is None or element.indexable or element.kind in ("container", "span"):
            raise NotEmittable(f"{owned.base} is not one contiguous array to gather")
        columns = owned.stride is not None and owned.coordinate != 0
        if owned.scale != 1 or (columns and owned.across is None):
            raise NotEmittable(
                f"the MPI transformation gathers elements [{text.var}], rows or columns of "
                f"known extent; {owned.base} is written "
                f"{'by columns whose rows it cannot bound' if columns else 'with a stride'}")
        pointer = owned.base if base.ctype.kind in ("pointer", "array") else \
            f"{owned.base}.data()"
        try:
            kind, scale = mpi_type(element), "1"
        except NotEmittable:  # a struct: sent as its bytes (checked trivially copyable)
            if columns:
                raise NotEmittable(f"{owned.base} holds structs written by columns: the MPI "
                                   "transformation gathers columns of numbers only") from None
            kind, scale = "MPI_BYTE", f"sizeof(*{pointer})"
            # bytes received over an element are a copy of it when copying and destroying
            # it does nothing else (std::pair of numbers: its assignment is user-declared)
            element_of = f"std::decay_t<decltype(*{pointer})>"
            lines.append(f"static_assert(std::is_trivially_copy_constructible<{element_of}>::"
                         f"value && std::is_trivially_destructible<{element_of}>::value, "
                         f"\"{owned.base}'s elements are sent as bytes\");")
        offset = text.model.render(owned.offset) if owned.offset != Poly() else "0"
        blocks = (
            "  std::vector<int> ellora_counts(ellora_size), ellora_displs(ellora_size);",
            "  for (int r = 0; r < ellora_size; ++r) {",
            "    const long long b = ellora_lo + ellora_n * r / ellora_size;",
            "    const long long e = ellora_lo + ellora_n * (r + 1) / ellora_size;",
            f"    const long long own_b = b + (long long)({offset});")
        lines += _column_gather(text, owned, pointer, kind, blocks) if columns else \
            _row_gather(text, owned, pointer, kind, scale, blocks)
    return lines


def _row_gather(text: LoopText, owned, pointer: str, kind: str, scale: str,
                blocks: tuple[str, ...]) -> list[str]:
    """Elements ``[i + c]`` (rows of 1) or rows ``[(i + c) * E + j]``: each rank's span runs
    from the first column written in its first row to the last column written in its last
    row (whole rows when the columns are not bounded), nothing past the last element the
    loop writes."""
    row = text.model.render(owned.stride) if owned.stride is not None else "1"
    first, last = ("0", "ellora_row - 1") if owned.across is None else (
        f"(long long)({text.model.render(owned.across[0])}) * (long long)({scale})",
        f"((long long)({text.model.render(owned.across[1])}) + 1) * (long long)({scale}) - 1")
    return [
        "{",
        f"  const long long ellora_row = (long long)({row}) * (long long)({scale});",
        f"  const long long ellora_col_first = {first}, ellora_col_last = {last};",
        *blocks,
        ("    ellora_counts[r] = e > b ? (int)((e - b - 1) * ellora_row + ellora_col_last - "
        "ellora_col_first + 1) : 0;"),
        "    ellora_displs[r] = e > b ? (int)(own_b * ellora_row + ellora_col_first) : 0;",
        "  }",
        _gather_call(text, pointer, kind),
        "}",
    ]


def _column_gather(text: LoopText, owned, pointer: str, kind: str,
                   blocks: tuple[str, ...]) -> list[str]:
    """Columns ``[j * E + i + c]``: one strided datatype per column (the rows written, E
    apart) resized to one element, so a rank's block of columns is a count of them and the
    displacements count columns."""
    render = text.model.render
    return [
        "{",
        f"  const long long ellora_row_first = (long long)({render(owned.across[0])});",
        (f"  const long long ellora_rows = (long long)({render(owned.across[1])}) - "
        "ellora_row_first + 1;"),
        "  MPI_Datatype ellora_strided, ellora_column;",
        (f"  MPI_Type_vector((int)(ellora_rows > 0 ? ellora_rows : 0), 1, "
        f"(int)({render(owned.stride)}), {kind}, &ellora_strided);"),
        f"  MPI_Type_create_resized(ellora_strided, 0, sizeof(*{pointer}), &ellora_column);",
        "  MPI_Type_commit(&ellora_column);",
        *blocks,
        "    ellora_counts[r] = e > b && ellora_rows > 0 ? (int)(e - b) : 0;",
        "    ellora_displs[r] = e > b ? (int)own_b : 0;",
        "  }",
        _gather_call(text, f"({pointer} + ellora_row_first * (long long)"
                           f"({render(owned.stride)}))", "ellora_column"),
        "  MPI_Type_free(&ellora_column);",
        "  MPI_Type_free(&ellora_strided);",
        "}",
    ]


def _gather_call(text: LoopText, pointer: str, kind: str) -> str:
    if text.mpi_root:  # rank 0 receives in place; the others send
        start = f"(const char*)({pointer})" if kind == "MPI_BYTE" else pointer
        return (f"  MPI_Gatherv(ellora_rank == 0 ? MPI_IN_PLACE : (const void*)({start} + "
                f"ellora_displs[ellora_rank]), ellora_counts[ellora_rank], {kind}, {pointer}, "
                f"ellora_counts.data(), ellora_displs.data(), {kind}, 0, MPI_COMM_WORLD);")
    return (f"  MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, {pointer}, "
            f"ellora_counts.data(), ellora_displs.data(), {kind}, MPI_COMM_WORLD);")


def _reduce_call(text: LoopText, address: str, kind: str, op: str) -> str:
    if text.mpi_root:
        return (f"MPI_Reduce(ellora_rank == 0 ? MPI_IN_PLACE : (const void*)({address}), "
                f"{address}, 1, {kind}, {op}, 0, MPI_COMM_WORLD);")
    return f"MPI_Allreduce(MPI_IN_PLACE, {address}, 1, {kind}, {op}, MPI_COMM_WORLD);"


def _reductions_started(verdict) -> list[str]:
    """Each rank accumulates its part from the identity (the value before the loop kept)."""
    lines = []
    for reducer in verdict.reducers:
        if reducer.operator in ("max", "min"):
            continue  # idempotent: each rank starts from the value before the loop
        if reducer.operator not in _IDENTITY:
            raise NotEmittable(f"no MPI reduction for {reducer.operator}")
        lines += [f"const {reducer.type_text} ellora_{reducer.name}_before = {reducer.name};",
                  f"{reducer.name} = {_IDENTITY[reducer.operator]};"]
    return lines


def _reductions_combined(text: LoopText) -> list[str]:
    """The ranks' parts combined (MPI_Allreduce, or MPI_Reduce to rank 0), then with the
    value before the loop."""
    lines = []
    for reducer in text.verdict.reducers:
        kind = mpi_type(reducer.ctype)
        if reducer.ctype.kind == "bool":
            lines += [f"{{ int ellora_value = {reducer.name} ? 1 : 0;",
                      "  " + _reduce_call(text, "&ellora_value", "MPI_INT",
                                          _bool_op(reducer.operator)),
                      f"  {reducer.name} = ellora_value != 0; }}"]
        else:  # through a copy: the loop's accumulator never has its address taken, so the
            # compiler keeps it in a register (and vectorizes) as in the original loop
            lines += [f"{{ {reducer.type_text} ellora_value = {reducer.name};",
                      "  " + _reduce_call(text, "&ellora_value", kind, _OPS[reducer.operator]),
                      f"  {reducer.name} = ellora_value; }}"]
        if reducer.operator not in ("max", "min"):
            operator = {"&&": "&&", "||": "||"}.get(reducer.operator, reducer.operator)
            lines.append(f"{reducer.name} = ellora_{reducer.name}_before {operator} "
                         f"{reducer.name};")
    return lines


def _blocks(text: LoopText) -> Emission:
    verdict = text.verdict
    lines = _mpi_block_lines(text) + _reductions_started(verdict)
    dealt = verdict.uneven and not verdict.owned and text.header.unit_step and \
        not text.header.descending and text.header.range_of is None
    if dealt:  # iterations dealt out in turn: a triangular nest's work spread evenly
        kind = text.var_type
        lines.append(f"for ({kind} {text.var} = ({kind})(ellora_lo + ellora_rank); {text.var} < "
                     f"({kind})ellora_hi; {text.var} += ({kind})ellora_size) {text.body()}")
    else:
        lines.append(text.block_loop("ellora_begin", "ellora_end"))
    lines += _reductions_combined(text)
    lines += _gathers(text)
    code = "{\n" + pad_lines("\n".join(lines)) + "}"
    start, end = text.span()
    root = text.mpi_root
    gathered = [o.base for o in verdict.owned if o.base not in text.model.confined]
    kept = [o.base for o in verdict.owned if o.base in text.model.confined]
    what = ", ".join(filter(None, [
        ("MPI_Reduce" if root else "MPI_Allreduce") + " for "
        + ", ".join(r.name for r in verdict.reducers) if verdict.reducers else "",
        ("MPI_Gatherv" if root else "MPI_Allgatherv") + " for "
        + ", ".join(gathered) if gathered else "",
        "not gathered (local, not read after the loop): " + ", ".join(kept) if kept else ""]))
    how = ("MPI decomposition dealing the iterations out to the ranks in turn (an inner "
           "loop's trip count changes with the iteration, so equal blocks would not be equal "
           "work)" if dealt else "MPI block decomposition of the iterations over the ranks")
    return Emission(start, end, text.reindent(code),
                    f"{how} ({what}); "
                    + ("" if root else "every rank ends with the full result: ") + "; ".join(verdict.facts or [
                        "each iteration is independent"]),
                    includes=("iterator", "vector", "type_traits", "mpi.h"))


def _bool_op(operator: str) -> str:
    return {"&&": "MPI_LAND", "||": "MPI_LOR", "^": "MPI_LXOR", "&": "MPI_LAND",
            "|": "MPI_LOR", "+": "MPI_LOR", "max": "MPI_LOR", "min": "MPI_LAND"}[operator]


def _running(text: LoopText) -> Emission:
    """Each rank folds its block from the identity; the one value per rank is gathered and
    combined in order (the loop's own operation); each rank replays its block from there;
    written elements are gathered."""
    from ellora.tools.loops.emit.blockscan import pass_code

    verdict = text.verdict
    scan = pass_code(text)
    kind = scan.kind
    value_type = verdict.scan.ctype if verdict.scan is not None else \
        text.model.bases[verdict.recurrence.base].ctype.element
    mpi_kind = mpi_type(value_type)
    typedef = ""
    if verdict.recurrence is not None:
        typedef = f"typedef std::decay_t<decltype({verdict.recurrence.base}[0])> {kind};"
    var, var_type = text.var, text.var_type
    loop = f"for ({var_type} {var} = ({var_type})ellora_begin; {var} < ({var_type})ellora_end; ++{var})"
    local = scan.second if scan.fixups is not None else scan.first
    lines = [*_mpi_block_lines(text), *_reductions_started(verdict), typedef,
             f"const {kind} ellora_first = {scan.start};",
             f"{kind} ellora_run = ellora_rank == 0 ? ellora_first : {scan.identity};",
             f"{loop} {local}",
             f"std::vector<{kind}> ellora_blocks(ellora_size);",
             # sent from a copy: ellora_run itself never has its address taken (a register)
             f"{{ const {kind} ellora_mine = ellora_run;",
             (f"  MPI_Allgather(&ellora_mine, 1, {mpi_kind}, ellora_blocks.data(), 1, {mpi_kind}, "
             "MPI_COMM_WORLD); }"),
             "ellora_run = ellora_first;", scan.combined_through("ellora_rank").rstrip("\n")]
    if scan.fixups is not None:  # the block's stored values take the offset
        lines.append(f"if (ellora_rank > 0) {loop} {scan.fixups}")
    else:  # the block replayed from the offset
        lines.append(f"{loop} {scan.second}")
    if scan.finish:  # the value after the loop: every block combined
        lines += ["ellora_run = ellora_first;",
                  scan.combined_through("ellora_size").rstrip("\n"), scan.finish]
    lines += _reductions_combined(text)
    owned = list(verdict.owned)
    if verdict.recurrence is not None:
        from ellora.tools.loops.legality.verdict import OwnedWrite

        owned.append(OwnedWrite(verdict.recurrence.base, 0, 0, Poly()))
    lines += _gathers(text, owned)
    code = "{\n" + pad_lines("\n".join(line for line in lines if line)) + "}"
    start_byte, end_byte = text.span()
    return Emission(start_byte, end_byte, text.reindent(code),
                    "MPI running value: each rank scans its block, one value per rank is "
                    "gathered (MPI_Allgather) and combined in order, "
                    + "".join(f"{o.base} is local and not read after the loop (not "
                              "gathered), " for o in owned if o.base in text.model.confined)
                    + ("each rank folds that offset into its block's values; "
                       if scan.fixups is not None else
                       "each rank replays its block from there; ") + "; ".join(verdict.facts),
                    includes=("algorithm", "limits", "type_traits", "vector", "mpi.h"))
