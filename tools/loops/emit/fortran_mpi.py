"""MPI lowering of Fortran loops through ``use mpi_f08``: block decomposition of the
iterations over the ranks of ``MPI_COMM_WORLD``, so that every rank ends with what the
serial loop computes.

- Reductions: each rank folds its block from the identity, ``MPI_Allreduce`` combines the
  ranks, the value from before the loop is folded back in (``max``/``min`` start from it).
- Owned writes: the columns (elements of a vector) each rank wrote are gathered to every
  rank with an in-place ``MPI_Allgatherv``; in column-major order the owned coordinate must
  be the last dimension, whose slabs are contiguous.
- Scatter-adds: each rank adds its block into a zeroed copy, the copies are summed with
  ``MPI_Allreduce`` and added to the array.
- argmin/argmax and last matches: the passes of the OpenMP form over each rank's block,
  combined with ``MPI_Allreduce`` (MIN/MAX).
- Running values: each rank folds its block, one value per rank is gathered
  (``MPI_Allgather``) and combined in order, each rank replays its block from there.

The caller initializes MPI; a file with a main program is not rewritten.
"""

from __future__ import annotations

from ellora.tools.loops.emit.common import NotEmittable, pad_lines
from ellora.tools.loops.emit.fortran_text import (
    FortranEmission,
    FortranText,
    fortran_name,
    local_name,
    mpi_datatype,
)
from ellora.tools.loops.expr import Poly
from ellora.tools.loops.fortran.syntax import lower, spelled, walk
from ellora.tools.loops.legality.verdict import OwnedWrite

_OPS = {"+": "MPI_SUM", "*": "MPI_PROD", "max": "MPI_MAX", "min": "MPI_MIN",
        "&&": "MPI_LAND", "||": "MPI_LOR", "&": "MPI_BAND", "|": "MPI_BOR", "^": "MPI_BXOR"}
_IDENTITY = {"+": "0", "*": "1", "&&": ".true.", "||": ".false.", "&": "-1", "|": "0",
             "^": "0"}
_COMBINE = {"+": "{b} + {v}", "*": "{b} * {v}", "&&": "{b} .and. {v}", "||": "{b} .or. {v}",
            "&": "iand({b}, {v})", "|": "ior({b}, {v})", "^": "ieor({b}, {v})"}
_PRELUDE = """integer :: ellora_rank, ellora_size, ellora_r
integer(8) :: ellora_lo, ellora_n, ellora_begin, ellora_end
call MPI_Comm_rank(MPI_COMM_WORLD, ellora_rank)
call MPI_Comm_size(MPI_COMM_WORLD, ellora_size)
ellora_lo = {start}
ellora_n = max(0_8, int({end}, 8) - ellora_lo + 1)
ellora_begin = ellora_lo + ellora_n * ellora_rank / ellora_size
ellora_end = ellora_lo + ellora_n * (ellora_rank + 1) / ellora_size - 1"""


def emit_mpi(text: FortranText) -> FortranEmission:
    verdict = text.verdict
    root = text.model.function.definition
    while root.parent is not None:
        root = root.parent
    if any(n.type == "program" for n in root.named_children):
        raise NotEmittable("the MPI transformation works on a procedure called under an MPI "
                           "harness; this file has a main program (add MPI_Init/Finalize "
                           "yourself)")
    if _uses_old_mpi(text):
        raise NotEmittable("the procedure uses the mpi module or mpif.h; Ellora's MPI ports "
                           "use mpi_f08")
    if not text.header.unit_step or text.header.descending:
        raise NotEmittable(f"{text.var} steps by {text.header.step_text}"
                           f"{' downwards' if text.header.descending else ''}: only loops "
                           "counting up by 1 are decomposed over MPI ranks")
    if text.info.concurrent and len(text.info.controls) > 1:
        raise NotEmittable("a do concurrent over several indices is decomposed over ranks "
                           "only when written as nested do loops")
    if verdict.lastprivates:
        raise NotEmittable("a value kept after the loop (lastprivate) is not sent between "
                           "ranks")
    if verdict.search is not None:
        from ellora.tools.loops.emit.fortran_search import emit_fortran_search

        return emit_fortran_search(text, "mpi")
    if verdict.locate is not None:
        return _locate(text)
    if verdict.scan is not None or verdict.recurrence is not None:
        return _running(text)
    return _blocks(text)


def _uses_old_mpi(text: FortranText) -> bool:
    current = text.unit
    while current is not None:
        for child in current.named_children:
            if child.type == "use_statement" and lower(child.named_children[0]) == "mpi":
                return True
        current = current.parent
    return "mpif.h" in text.model.function.source.lower()


def prelude(text: FortranText) -> str:
    start, end, _ = text.bounds()
    return _PRELUDE.format(start=start, end=end)


def block_loop(text: FortranText, body: str) -> str:
    return (f"{text.head(start='ellora_begin', end='ellora_end', step=None)}\n"
            f"{pad_lines(body)}end do")


def _reductions(text: FortranText) -> tuple[list[str], list[str], list[str]]:
    """(declarations, lines before the loop, lines after it) for the loop's reducers: each
    rank folds its part from the identity, MPI_Allreduce combines the parts, then the value
    before the loop is folded in."""
    verdict = text.verdict
    declarations, before, after = [], [], []
    for reducer in verdict.reducers:
        kind = mpi_datatype(text, reducer.name)
        # through a copy: the accumulator itself is never passed to MPI (whose buffer
        # argument makes it addressable), so the compiler keeps it in a register in the loop
        value = f"ellora_{reducer.name}_value"
        declarations.append(f"{text.spelling(reducer.name)} :: {value}")
        reduce = "\n".join([
            f"{value} = {reducer.name}",
            (f"call MPI_Allreduce(MPI_IN_PLACE, {value}, 1, {kind}, "
            f"{_OPS[reducer.operator]}, MPI_COMM_WORLD)"),
            f"{reducer.name} = {value}"])
        if reducer.operator in ("max", "min"):
            after.append(reduce)  # idempotent: every rank starts from the value before
            continue
        saved = f"ellora_{reducer.name}_before"
        declarations.append(f"{text.spelling(reducer.name)} :: {saved}")
        before += [f"{saved} = {reducer.name}",
                   f"{reducer.name} = {_IDENTITY[reducer.operator]}"]
        after += [reduce, f"{reducer.name} = " + _COMBINE[reducer.operator].format(
            b=saved, v=reducer.name)]
    return declarations, before, after


def _blocks(text: FortranText) -> FortranEmission:
    verdict = text.verdict
    declarations, before, after = _reductions(text)
    renames, scattered = {}, []
    for scatter in verdict.scatters:
        declarations.append(_copy_declaration(text, scatter.base))
        copy, array = local_name(scatter.base), fortran_name(scatter.base)
        if "." in scatter.base:
            raise NotEmittable(f"{array} is a component: its per-rank copy is not written")
        renames[scatter.base] = copy
        before += [f"allocate({copy}, mold={array})", f"{copy} = 0"]
        after += [(f"call MPI_Allreduce(MPI_IN_PLACE, {copy}, size({copy}), "
                  f"{mpi_datatype(text, scatter.base)}, MPI_SUM, MPI_COMM_WORLD)"),
                  f"{array} = {array} + {copy}", f"deallocate({copy})"]
        scattered.append(scatter.base)
    gathers, gather_declarations = gather_lines(text, verdict.owned)
    body = text.body_text(renames)
    dealt = verdict.uneven and not verdict.owned
    if dealt:  # iterations dealt out in turn: a triangular nest's work spread evenly
        loop = (f"{text.head(start='ellora_lo + ellora_rank', end='ellora_lo + ellora_n - 1', step='ellora_size')}"
                f"\n{pad_lines(body)}end do")
    else:
        loop = block_loop(text, body)
    code = "\n".join([*declarations, *gather_declarations, prelude(text), *before, loop,
                      *after, *gathers])
    what = ", ".join(filter(None, [
        "MPI_Allreduce for " + ", ".join(r.name for r in verdict.reducers)
        if verdict.reducers else "",
        "per-rank copies summed for " + ", ".join(scattered) if scattered else "",
        "MPI_Allgatherv for " + ", ".join(o.base for o in verdict.owned)
        if verdict.owned else ""]))
    return text.emission("block\n" + pad_lines(code) + "end block",
                         ("MPI decomposition dealing the iterations out to the ranks in turn "
                          "(an inner loop's trip count changes with the iteration, so equal "
                          "blocks would not be equal work)" if dealt else
                          "MPI block decomposition of the iterations over the ranks")
                         + f" ({what}); "
                         "every rank ends with the full result: " + "; ".join(
                             verdict.facts or ["each iteration is independent"]),
                         uses=("mpi_f08",))


def _copy_declaration(text: FortranText, base: str) -> str:
    symbol = text.type_of(base)
    if symbol is None or not symbol.dims or any(d.upper is None and not symbol.pointer and
                                                "allocatable" not in symbol.attributes and
                                                d == symbol.dims[-1] and
                                                "*" in symbol.node.text.decode()
                                                for d in symbol.dims):
        raise NotEmittable(f"{base} is an assumed-size array: its per-rank copy needs its "
                           "size")
    rank = ", ".join(":" for _ in symbol.dims)
    return f"{text.spelling(base)}, allocatable :: ellora_{base}({rank})"


def gather_lines(text: FortranText, owned_writes) -> tuple[list[str], list[str]]:
    """In-place ``MPI_Allgatherv`` of what each rank wrote (elements of a vector, or whole
    slabs of the last dimension), and the declarations they need. A local array nothing
    reads after the loop is not gathered."""
    owned_writes = [o for o in owned_writes if o.base not in text.model.confined]
    if not owned_writes:
        return [], []
    lines = []
    for owned in owned_writes:
        symbol = text.type_of(owned.base)
        if symbol is None or not symbol.dims:
            raise NotEmittable(f"{owned.base} is not an array to gather")
        rank = len(symbol.dims)
        if owned.scale != 1 or owned.stride is not None or owned.block is not None:
            raise NotEmittable(f"{owned.base} is written with a stride: the MPI "
                               "transformation gathers whole elements or columns")
        if owned.dimension != rank - 1:
            raise NotEmittable(
                f"{owned.base} is written along dimension {owned.dimension + 1} of {rank}: in "
                "column-major order only slabs of the last dimension are contiguous, so the "
                "MPI transformation gathers those (loop over the last index outside)")
        array = fortran_name(owned.base)
        slab = " * ".join(f"size({array}, {d + 1}, kind=8)" for d in range(rank - 1))
        times = f" * {slab}" if slab else ""
        offset = f" + ({text.model.render(owned.offset)})" if owned.offset != Poly() else ""
        low = f"lbound({array}, {rank}, kind=8)"
        count = "ellora_n * (ellora_r + 1) / ellora_size - ellora_n * ellora_r / ellora_size"
        start = f"ellora_lo + ellora_n * ellora_r / ellora_size{offset} - {low}"
        lines += [
            "do ellora_r = 0, ellora_size - 1",
            f"  ellora_counts(ellora_r) = int(({count}){times})" if slab else
            f"  ellora_counts(ellora_r) = int({count})",
            f"  ellora_displs(ellora_r) = int(({start}){times})" if slab else
            f"  ellora_displs(ellora_r) = int({start})",
            "end do",
            (f"call MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, {array}, "
            f"ellora_counts, ellora_displs, {mpi_datatype(text, owned.base)}, MPI_COMM_WORLD)"),
        ]
    return (["allocate(ellora_counts(0:ellora_size - 1), ellora_displs(0:ellora_size - 1))",
             *lines, "deallocate(ellora_counts, ellora_displs)"],
            ["integer, allocatable :: ellora_counts(:), ellora_displs(:)"])


def _locate(text: FortranText) -> FortranEmission:
    from ellora.tools.loops.emit.fortran_patterns import locate_parts, locate_passes

    parts = locate_parts(text)
    types = {"ellora_at": mpi_datatype(text, parts.index)}
    if parts.key_of is not None:
        types["ellora_key"] = mpi_datatype(text, parts.key_of)

    def clauses(operator: str, name: str) -> tuple[str, str]:
        return "", (f"call MPI_Allreduce(MPI_IN_PLACE, {name}, 1, {types[name]}, "
                    f"{_OPS[operator]}, MPI_COMM_WORLD)\n")

    passes = locate_passes(text, parts, text.head(start="ellora_begin", end="ellora_end",
                                                  step=None), clauses)
    declarations = [line for line in passes.split("\n") if "::" in line]
    statements = [line for line in passes.split("\n") if "::" not in line]
    code = "\n".join([*declarations, prelude(text), *statements])
    return text.emission("block\n" + pad_lines(code) + "end block",
                         "MPI: each rank searches its block, the ranks agree on the extreme "
                         "key and its index with MPI_Allreduce; " + "; ".join(
                             text.verdict.facts), uses=("mpi_f08",))


def _running(text: FortranText) -> FortranEmission:
    from ellora.tools.loops.emit.fortran_patterns import combined_offset, scan_parts

    verdict = text.verdict
    parts = scan_parts(text)
    source = verdict.scan.name if verdict.scan is not None else verdict.recurrence.base
    kind = mpi_datatype(text, source)
    owned = list(verdict.owned)
    if verdict.recurrence is not None:
        owned.append(OwnedWrite(verdict.recurrence.base, 0, 0, Poly()))
    gathers, gather_declarations = gather_lines(text, owned)
    reduced, started, combined = _reductions(text)
    lines = [*reduced, f"{parts.kind} :: ellora_first, ellora_run, ellora_mine",
             (f"{parts.kind}, allocatable :: "
             "ellora_blocks(:)"), "integer(8) :: ellora_b", "integer :: ellora_t",
             *gather_declarations, prelude(text), "ellora_t = ellora_rank",
             parts.first_value(),
             *started,
             "if (ellora_rank == 0) then", "  ellora_run = ellora_first", "else",
             f"  ellora_run = {parts.identity}", "end if",
             block_loop(text, parts.first if parts.fixups is None else parts.second),
             "allocate(ellora_blocks(0:ellora_size - 1))",
             "ellora_mine = ellora_run  ! sent from a copy: ellora_run stays a register",
             (f"call MPI_Allgather(ellora_mine, 1, {kind}, ellora_blocks, 1, {kind}, "
             "MPI_COMM_WORLD)"), combined_offset(parts)]
    if parts.fixups is not None:  # the block's stored values take the offset
        lines += ["if (ellora_rank > 0) then", pad_lines(block_loop(text, parts.fixups)).rstrip(),
                  "end if"]
    else:  # the block replayed from the offset
        lines.append(block_loop(text, parts.second))
    if parts.finish:
        lines += ["ellora_t = ellora_size", combined_offset(parts), parts.finish]
    lines += ["deallocate(ellora_blocks)", *combined, *gathers]
    return text.emission("block\n" + pad_lines("\n".join(lines)) + "end block",
                         "MPI running value: each rank scans its block, one value per rank is "
                         "gathered (MPI_Allgather) and combined in order, "
                         + ("each rank folds that offset into its block's values; "
                            if parts.fixups is not None else
                            "each rank replays its block from there; ")
                         + "; ".join(verdict.facts),
                         uses=("mpi_f08",))


__all__ = ["emit_mpi", "gather_lines", "spelled", "walk"]
