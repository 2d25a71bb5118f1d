"""MPI across a serial loop: a parallel loop inside a loop that carries a dependence from
one step to the next (an elimination step, a relaxation sweep, Floyd-Warshall's pivot).

Each iteration ``j`` of the inner loop writes only its own row ``q = j + c`` of the arrays
it writes (the legality result's owned rows, or elements for a 1-D array). Row ``q`` is
given to rank ``q mod size`` for every step, so the rank that owns a row holds its current
value from the first step to the last: it is the only one that writes it. What an
iteration reads is then one of three things:

- its own row: current on its owner, which runs it;
- a row the step names without the iteration (``A[k * n + m]`` with ``k`` the serial
  loop's variable): no iteration of this step writes it (the inner loop is parallel), so
  its owner's copy is current; it is broadcast from the owner before the step, over the
  columns the step reads;
- an array the nest does not write: the same on every rank.

Any other read (a neighbouring row, a column across rows) refuses this form, and the
planner falls back to a gather after every step. After the serial loop, the rows each rank
wrote are gathered (to rank 0 when only it needs the result, else to every rank): the
rectangle of rows and columns the steps wrote, tracked as they run, each row from its
owner. Dealing rows out in turn keeps a shrinking (triangular) step's work even.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ellora.tools.loops.emit.common import Emission, LoopText, NotEmittable, mpi_type, pad_lines
from ellora.tools.loops.expr import Poly
from ellora.tools.loops.legality.arrays import (
    _coordinates,
    _extreme_of,
    access_env,
    invariant,
    variant_names,
)
from ellora.tools.loops.legality.verdict import OwnedWrite, Verdict


@dataclass
class _StepRow:
    """A row every iteration of a step may read: ``row`` (free of the inner loop's
    variables), its columns between the lowest of ``lows`` and the highest of ``highs``."""

    base: str
    row: Poly
    lows: list[Poly]
    highs: list[Poly]


def emit_mpi_steps(outer: Verdict, inner: Verdict, root: bool = False) -> Emission:
    """The serial loop of ``outer`` (refused) run by every rank, its one inner loop (the
    parallel verdict ``inner``) dealt out by the rows it writes; NotEmittable with the
    reason when the nest does not have that shape."""
    outer_model, model = outer.loop, inner.loop
    if outer_model.top_statements != ["loop"] or len(outer_model.direct_inner_loops) != 1:
        raise NotEmittable("the serial loop's body is more than the parallel loop")
    _check_inner(inner)
    owned = _owned_rows(outer, inner)
    reads = _step_reads(inner, owned)
    text, outer_text = LoopText(inner), LoopText(outer)
    if re.search(r"\bint\s+main\s*\(", text.source):
        raise NotEmittable("the MPI transformation works on a function called under an MPI "
                           "harness; this file has main() (add MPI_Init/Finalize yourself)")
    step = _step_code(text, owned, reads)
    inner_node = inner.loop.node
    before = outer_text.slice(outer_model.node.start_byte, inner_node.start_byte)
    after = outer_text.slice(inner_node.end_byte, outer_model.node.end_byte)
    nest = outer_text.dedent(before + text.reindent(step) + after)
    lines = ["int ellora_rank = 0, ellora_size = 1;",
             "MPI_Comm_rank(MPI_COMM_WORLD, &ellora_rank);",
             "MPI_Comm_size(MPI_COMM_WORLD, &ellora_size);",
             "long long ellora_rows_first = LLONG_MAX, ellora_rows_last = LLONG_MIN;"]
    for write in owned:
        name = _name(write.base)
        lines.append(f"long long ellora_{name}_cols_first = LLONG_MAX, "
                     f"ellora_{name}_cols_last = LLONG_MIN;")
    lines.append(nest)
    for write in owned:
        lines += _gather(text, write, root)
    code = "{\n" + pad_lines("\n".join(lines)) + "}"
    if inner.object_checks:  # containers that may be one object: the same test, every step
        from ellora.tools.loops.emit.checks import guard_declaration

        code = ("{\n" + pad_lines(
            guard_declaration(text)
            + f"int ellora_all_apart = {text.guard} ? 1 : 0;\n"
            "MPI_Allreduce(MPI_IN_PLACE, &ellora_all_apart, 1, MPI_INT, MPI_LAND, "
            "MPI_COMM_WORLD);\n"
            f"if (ellora_all_apart) {code} else {outer_text.original()}") + "}")
    start, end = outer_text.span()
    strides = {write.base: write.stride for write in owned}
    broadcast = "; ".join(f"{r.base} row {model.render(r.row)}" if strides[r.base] is not None
                          else f"{r.base}[{model.render(r.row)}]" for r in reads)
    return Emission(
        start, end, outer_text.reindent(code),
        f"MPI across the serial loop at line {outer_model.line} (kept serial: "
        f"{outer.dependence}): every rank runs its steps; the loop at line {model.line} "
        f"is dealt out by the row each iteration writes (row q on rank q mod ranks, the "
        f"same at every step, so a row's owner always holds it current)"
        + (f"; before each step the row{'s' if len(reads) > 1 else ''} every iteration "
           f"reads ({broadcast}) {'are' if len(reads) > 1 else 'is'} broadcast from "
           f"{'their owners' if len(reads) > 1 else 'its owner'} (MPI_Bcast)" if reads else "")
        + "; after the loop the rows each rank wrote are gathered "
        + ("to rank 0 (MPI_Gatherv), as the task asks" if root else
           "to every rank (MPI_Allgatherv)")
        + ("; " + "; ".join(inner.facts) if inner.facts else ""),
        includes=("algorithm", "climits", "type_traits", "vector", "mpi.h"))


def _check_inner(inner: Verdict) -> None:
    header = inner.loop.header
    if not inner.parallel or inner.pattern != "map":
        raise NotEmittable(f"the inner loop is a {inner.pattern}: only loops that write "
                           "their own rows are dealt out across the steps")
    if inner.range_checks or inner.block_checks:
        raise NotEmittable("the inner loop's run-time check depends on the step")
    if inner.lastprivates or inner.word_blocks:
        raise NotEmittable("the inner loop keeps a value after it or writes packed bits")
    if not header.unit_step or header.descending or header.range_of is not None or \
            header.steps_in_test:
        raise NotEmittable("the inner loop does not count up by one over an index")
    if not inner.owned:
        raise NotEmittable("the inner loop writes no array")


def _owned_rows(outer: Verdict, inner: Verdict) -> list[OwnedWrite]:
    """The inner loop's owned writes as rows ``var + c`` (one ``c`` for all) of flat arrays
    of numbers, with a row length the serial loop does not change."""
    model, outer_model = inner.loop, outer.loop
    variant = variant_names(outer_model)
    written = set(outer_model.written_bases())
    offsets = {write.offset for write in inner.owned}
    if len(offsets) != 1:
        raise NotEmittable("the inner loop's arrays are written at different rows of its "
                           "variable: no one owner per row")
    for write in inner.owned:
        base = model.bases[write.base]
        if base.ctype.kind not in ("pointer", "vector", "std_array", "array") or \
                any(len(a.indices) != 1 for a in model.accesses_of(write.base)):
            raise NotEmittable(f"{write.base} is not one contiguous array")
        if write.scale != 1 or write.block is not None or write.dimension != 0:
            raise NotEmittable(f"{write.base} is written with a stride")
        if write.stride is not None and (write.coordinate != 0 or write.across is None):
            raise NotEmittable(f"{write.base} is not written by rows of known columns")
        if write.stride is not None and not invariant(write.stride, outer_model, set(),
                                                      variant, written):
            raise NotEmittable(f"{write.base}'s row length changes with the serial loop")
        mpi_type(base.ctype.element)
    return list(inner.owned)


def _step_reads(inner: Verdict, owned: list[OwnedWrite]) -> list[_StepRow]:
    """The rows of written arrays the step reads besides each iteration's own."""
    model = inner.loop
    var = model.header.var
    rows: dict[tuple[str, Poly], _StepRow] = {}
    for write in owned:
        own = Poly.symbol(var) + write.offset
        for access in model.accesses_of(write.base):
            if access.whole or not access.readable:
                raise NotEmittable(f"{write.base} is read where its elements are not known")
            coordinates = _coordinates(model, access, 0, write.stride)
            if coordinates is None:
                raise NotEmittable(f"{write.base} is read across rows ({access.texts[0]})")
            row = coordinates[0]
            column = coordinates[1] if write.stride is not None else Poly()
            if row == own:
                continue
            if access.writes:
                raise NotEmittable(f"{write.base} is written outside the iteration's row")
            inner_names = {var, *(h.var for h in access.loops)}
            if any(row.mentions(name) for name in inner_names):
                raise NotEmittable(
                    f"{write.base}[{access.texts[0]}] reads a row that changes within the "
                    "step: under MPI a rank holds only its own rows current")
            if access.conditional:
                raise NotEmittable(f"{write.base}[{access.texts[0]}] is read under a "
                                   "condition: which columns it reads is known only as it runs")
            env = access_env(model, access)
            low, high = env.extremes(column, lowest=True), env.extremes(column, lowest=False)
            if not low or not high or any(p.mentions(n) for p in low + high
                                           for n in inner_names):
                raise NotEmittable(f"the columns {write.base}[{access.texts[0]}] reads "
                                   "have no bound")
            entry = rows.setdefault((write.base, row), _StepRow(write.base, row, [], []))
            entry.lows += [p for p in low if p not in entry.lows]
            entry.highs += [p for p in high if p not in entry.highs]
    return list(rows.values())


def _name(base: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in base)


def _pointer(text: LoopText, base: str) -> str:
    kind = text.model.bases[base].ctype.kind
    return base if kind in ("pointer", "array") else f"{base}.data()"


def _bound(text: LoopText, candidates: list[Poly], lowest: bool) -> str:
    env = text.model.env()
    single = _extreme_of(env, candidates, lowest)
    if single is not None:
        return f"(long long)({text.model.render(single)})"
    pick = "std::min" if lowest else "std::max"
    return pick + "({" + ", ".join(f"(long long)({text.model.render(c)})"
                                   for c in candidates) + "})"


def _step_code(text: LoopText, owned: list[OwnedWrite], reads: list[_StepRow]) -> str:
    """One step: the rows it reads broadcast from their owners, the written rectangle
    tracked, then this rank's rows (those it owns in the step's range)."""
    model, render = text.model, text.model.render
    header = model.header
    offset = f"(long long)({render(owned[0].offset)})" if owned[0].offset != Poly() else "0LL"
    lines = [(f"const long long ellora_lo = (long long)({header.lower_text}), "
             f"ellora_hi = (long long)({header.upper_text});"),
             "if (ellora_lo < ellora_hi) {",
             (f"  const long long ellora_own = {offset};  // iteration {text.var} writes row "
             f"{text.var} + ellora_own")]
    bases = {write.base: write for write in owned}
    for read in reads:
        write = bases[read.base]
        kind = mpi_type(model.bases[read.base].ctype.element)
        length = f"(long long)({render(write.stride)})" if write.stride is not None else "1LL"
        lines += [
            (f"  {{  // row {render(read.row)} of {read.base}, read by every iteration: from "
            "its owner"),
            f"    const long long ellora_row = (long long)({render(read.row)});",
            (f"    const long long ellora_c0 = {_bound(text, read.lows, True)}, "
            f"ellora_c1 = {_bound(text, read.highs, False)};"),
            "    if (ellora_c1 >= ellora_c0)",
            (f"      MPI_Bcast({_pointer(text, read.base)} + ellora_row * {length} + ellora_c0, "
            f"(int)(ellora_c1 - ellora_c0 + 1), {kind}, "
            "(int)(((ellora_row % ellora_size) + ellora_size) % ellora_size), MPI_COMM_WORLD);"),
            "  }"]
    lines += ["  ellora_rows_first = std::min(ellora_rows_first, ellora_lo + ellora_own);",
              "  ellora_rows_last = std::max(ellora_rows_last, ellora_hi - 1 + ellora_own);"]
    for write in owned:
        name = _name(write.base)
        first, last = ("0", "0") if write.stride is None else (
            render(write.across[0]), render(write.across[1]))
        lines += [(f"  ellora_{name}_cols_first = std::min(ellora_{name}_cols_first, "
                  f"(long long)({first}));"),
                  (f"  ellora_{name}_cols_last = std::max(ellora_{name}_cols_last, "
                  f"(long long)({last}));")]
    kind = text.var_type
    lines += [
        ("  const long long ellora_first = ellora_lo + ((((long long)ellora_rank - (ellora_lo "
        "+ ellora_own)) % ellora_size) + ellora_size) % ellora_size;"),
        f"  for ({kind} {text.var} = ({kind})ellora_first; {text.var} < ({kind})ellora_hi; "
        f"{text.var} += ({kind})ellora_size) " + text.body().replace("\n", "\n  "),
        "}"]
    return "{\n" + pad_lines("\n".join(lines)) + "}"


def _gather(text: LoopText, write: OwnedWrite, root: bool) -> list[str]:
    """The written rectangle of ``write.base``, each row from its owner (rank q mod size):
    packed per rank, gathered, unpacked by the ranks that need it."""
    name = _name(write.base)
    pointer = _pointer(text, write.base)
    kind = mpi_type(text.model.bases[write.base].ctype.element)
    length = f"(long long)({text.model.render(write.stride)})" if write.stride is not None \
        else "1LL"
    first_of = ("ellora_rows_first + ((((long long)({rank}) - ellora_rows_first) % ellora_size)"
                " + ellora_size) % ellora_size")
    gather = (f"MPI_Gatherv(ellora_mine.data(), ellora_counts[ellora_rank], {kind}, "
              f"ellora_all.data(), ellora_counts.data(), ellora_displs.data(), {kind}, 0, "
              "MPI_COMM_WORLD);" if root else
              f"MPI_Allgatherv(ellora_mine.data(), ellora_counts[ellora_rank], {kind}, "
              f"ellora_all.data(), ellora_counts.data(), ellora_displs.data(), {kind}, "
              "MPI_COMM_WORLD);")
    size = "ellora_rank == 0 ? ellora_total : 0" if root else "ellora_total"
    unpack = "  if (ellora_rank == 0) " if root else "  "
    return [
        (f"if (ellora_rows_last >= ellora_rows_first && ellora_{name}_cols_last >= "
        f"ellora_{name}_cols_first) {{  // {write.base}: each row from its owner"),
        f"  typedef std::decay_t<decltype({pointer}[0])> ellora_element;",
        f"  const long long ellora_length = {length}, ellora_c0 = ellora_{name}_cols_first;",
        f"  const long long ellora_width = ellora_{name}_cols_last - ellora_c0 + 1;",
        "  std::vector<int> ellora_counts(ellora_size), ellora_displs(ellora_size);",
        "  long long ellora_total = 0;",
        "  for (int r = 0; r < ellora_size; ++r) {",
        f"    const long long q0 = {first_of.format(rank='r')};",
        ("    const long long rows = q0 <= ellora_rows_last ? (ellora_rows_last - q0) / "
        "ellora_size + 1 : 0;"),
        "    ellora_counts[r] = (int)(rows * ellora_width);",
        "    ellora_displs[r] = (int)ellora_total;",
        "    ellora_total += rows * ellora_width;",
        "  }",
        "  std::vector<ellora_element> ellora_mine(ellora_counts[ellora_rank]);",
        f"  std::vector<ellora_element> ellora_all({size});",
        f"  const long long ellora_q0 = {first_of.format(rank='ellora_rank')};",
        ("  for (long long q = ellora_q0, at = 0; q <= ellora_rows_last; q += ellora_size, "
        "at += ellora_width)"),
        (f"    std::copy({pointer} + q * ellora_length + ellora_c0, {pointer} + q * "
        "ellora_length + ellora_c0 + ellora_width, ellora_mine.data() + at);"),
        f"  {gather}",
        unpack + "for (int r = 0; r < ellora_size; ++r) {  // the other ranks' rows",
        "    if (r == ellora_rank) continue;",
        "    long long at = ellora_displs[r];",
        (f"    for (long long q = {first_of.format(rank='r')}; q <= ellora_rows_last; "
        "q += ellora_size, at += ellora_width)"),
        ("      std::copy(ellora_all.data() + at, ellora_all.data() + at + ellora_width, "
        f"{pointer} + q * ellora_length + ellora_c0);"),
        "  }",
        "}"]
