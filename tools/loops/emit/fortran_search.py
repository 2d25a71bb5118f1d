"""Fortran first-match searches (``if (c) then; k = i; exit; end if`` in a loop that writes
nothing else) on OpenMP threads or MPI ranks: the first iterations serially, then windows
of growing size split over the threads (ranks), each stopping at its own first match, the
smallest found kept (a min reduction, or MPI_Allreduce(MIN)); an early match stops the scan.
Then the loop runs as written from the index found, so the branch's assignments and exit
happen once, exactly as in the serial loop. Every rank has the input, so every rank ends
with the result."""

from __future__ import annotations

from ellora.tools.loops.emit.common import NotEmittable, pad_lines
from ellora.tools.loops.emit.fortran_text import FortranEmission, FortranText, directive

_PREFIX = 4096  # iterations scanned serially first (an early match costs no threads)
_WINDOW = 16384  # the first window; each next one is twice as large


def emit_fortran_search(text: FortranText, target: str) -> FortranEmission:
    search = text.verdict.search
    if not text.header.unit_step or text.header.descending:
        raise NotEmittable("a search over a strided or descending loop is not transformed")
    start, end, _ = text.bounds()
    probe = _probe(text, search.statement)
    var = text.var
    declarations = [
        ("integer(8) :: ellora_lo, ellora_hi, ellora_first, ellora_prefix, ellora_w, "
         "ellora_width, ellora_w_end, ellora_m, ellora_from, ellora_to")]
    if target == "mpi":
        declarations += ["integer(8) :: ellora_value", "integer :: ellora_rank, ellora_size",
                         "call MPI_Comm_rank(MPI_COMM_WORLD, ellora_rank)",
                         "call MPI_Comm_size(MPI_COMM_WORLD, ellora_size)"]
        window = _ranks(var, probe)
    else:
        declarations.append("integer :: ellora_parts, ellora_part")
        window = _threads(text, var, probe)
    lines = [
        *declarations,
        f"ellora_lo = {start}",
        f"ellora_hi = {end}",
        "ellora_first = ellora_hi + 1  ! none yet",
        f"ellora_prefix = min(ellora_hi, ellora_lo + {_PREFIX - 1})",
        "do ellora_m = ellora_lo, ellora_prefix",
        f"  {var} = ellora_m",
        pad_lines(probe).rstrip(),
        "end do",
        "ellora_w = ellora_prefix + 1",
        f"ellora_width = {_WINDOW}",
        "do while (ellora_w <= ellora_hi .and. ellora_first > ellora_hi)",
        "  ellora_w_end = min(ellora_hi, ellora_w + ellora_width - 1)",
        pad_lines(window).rstrip(),
        "  ellora_w = ellora_w_end + 1",
        "  ellora_width = ellora_width * 2",
        "end do",
        "if (ellora_first <= ellora_hi) then  ! the loop as written, from the first match",
        pad_lines(f"{text.head(start='ellora_first')}\n{pad_lines(text.body_text())}"
                  "end do").rstrip(),
        "end if"]
    how = ("first-match search on MPI ranks: the first iterations on every rank (each has "
           "the input), then windows of growing size split over the ranks, each stopping at "
           "its first match, the ranks agreeing on the smallest with MPI_Allreduce(MIN)"
           if target == "mpi" else
           "first-match search: the first iterations serially, then windows of growing size "
           "split over the threads, each stopping at its first match, the smallest kept (a "
           "min reduction)")
    return text.emission("block\n" + pad_lines("\n".join(lines)) + "end block",
                         how + "; the loop then runs as written from the index found; "
                         + "; ".join(text.verdict.facts),
                         uses=("mpi_f08",) if target == "mpi" else ("omp_lib",))


def _probe(text: FortranText, statement) -> str:
    """The body with the matching branch's statements replaced by marking the iteration
    and leaving the probe loop."""
    inner = [c for c in statement.named_children
             if c.type not in ("comment", "end_if_statement")][1:]
    if not inner:
        raise NotEmittable("the search's branch has no statements to replace")
    span = (inner[0].start_byte, inner[-1].end_byte)
    return text.body_text(replace={span: "ellora_first = ellora_m; exit"})


def _threads(text: FortranText, var: str, probe: str) -> str:
    privates = ", ".join([var, "ellora_m", "ellora_from", "ellora_to", "ellora_parts",
                          "ellora_part", *text.private_names()])
    return "\n".join([
        directive("parallel", [f"private({privates})", "reduction(min:ellora_first)"]),
        "ellora_parts = omp_get_num_threads()",
        "ellora_part = omp_get_thread_num()",
        "ellora_from = ellora_w + (ellora_w_end - ellora_w + 1) * ellora_part / ellora_parts",
        ("ellora_to = ellora_w + (ellora_w_end - ellora_w + 1) * (ellora_part + 1) / "
         "ellora_parts - 1"),
        "do ellora_m = ellora_from, ellora_to",
        f"  {var} = ellora_m",
        pad_lines(probe).rstrip(),
        "end do",
        "!$omp end parallel"])


def _ranks(var: str, probe: str) -> str:
    return "\n".join([
        "ellora_from = ellora_w + (ellora_w_end - ellora_w + 1) * ellora_rank / ellora_size",
        ("ellora_to = ellora_w + (ellora_w_end - ellora_w + 1) * (ellora_rank + 1) / "
         "ellora_size - 1"),
        "do ellora_m = ellora_from, ellora_to",
        f"  {var} = ellora_m",
        pad_lines(probe).rstrip(),
        "end do",
        "ellora_value = ellora_first  ! ellora_first stays a register",
        ("call MPI_Allreduce(MPI_IN_PLACE, ellora_value, 1, MPI_INTEGER8, MPI_MIN, "
         "MPI_COMM_WORLD)"),
        "ellora_first = ellora_value"])


__all__ = ["emit_fortran_search"]
