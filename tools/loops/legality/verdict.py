"""What the legality rules decide about a loop, as typed records the emitters lower.

A :class:`Verdict` is either parallel (``dependence is None``) with the parts that make it
so, or refused with the :class:`Dependence` that stops it. Explanations are rendered from
these records; nothing downstream parses text back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ellora.tools.loops.cxx_types import CType
from ellora.tools.loops.expr import Poly
from ellora.tools.loops.model import LoopModel
from ellora.tools.loops.terms import Term

REDUCTION_OPERATORS = ("+", "*", "max", "min", "&", "|", "^", "&&", "||")


@dataclass(frozen=True)
class Dependence:
    """Why a loop is not parallel. ``kind``: carried_scalar, carried_array, indirect_write,
    alias, call, exit, header, container, unreadable, live_out, storage."""

    kind: str
    subject: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Reducer:
    name: str
    operator: str
    ctype: CType
    update: str = ""  # the first statement that folds into it, as written (with its if)

    @property
    def type_text(self) -> str:
        return self.ctype.name


@dataclass(frozen=True)
class OwnedWrite:
    """A base each iteration writes only in its own part: ``coordinate`` is the position in
    the access's coordinates that equals ``var * scale + offset``; ``stride`` is the row
    length when the subscript was split as ``stride * q + r`` (``coordinate`` 0 is q, 1 is
    r), None for a plain ``[var + offset]``; ``dimension`` is the subscript it sits in."""

    base: str
    dimension: int
    coordinate: int
    offset: Poly
    stride: Poly | None = None
    scale: int = 1
    block: Poly | None = None  # a loop stepping by s owns [var, var + s) (set to s)
    # the other coordinate's first and last value written (owned rows: the columns; owned
    # columns: the rows), free of loop variables; None when it varies with var or is unbounded
    across: tuple[Poly, Poly] | None = None


@dataclass(frozen=True)
class Scatter:
    """Updates ``base[k] op= v`` that several iterations may share (a histogram)."""

    base: str
    operator: str  # "+" (also -=, ++, --) or "*", "max", "min"


@dataclass(frozen=True)
class Scan:
    """A running value read by the iteration: ``s op= e; out[i] = f(s)`` (inclusive) or the
    uses before the update (exclusive). ``update`` is the statement node of the update."""

    name: str
    operator: str
    kind: str
    ctype: CType
    update: object = field(repr=False, compare=False)


@dataclass(frozen=True)
class Search:
    """``if (condition) return result;`` or ``if (condition) { s = ...; break; }``: the first
    iteration where the condition holds; ``assigned`` names the scalars the branch sets."""

    condition: object = field(repr=False, compare=False)
    result: object = field(repr=False, compare=False)
    statement: object = field(repr=False, compare=False)
    assigned: tuple[str, ...] = ()


@dataclass(frozen=True)
class Locate:
    """argmin/argmax: ``index`` keeps the first (``last`` False) or last iteration where
    ``key`` is smallest (``operator`` min) or largest, ``best`` (if any) keeps the key; a
    ``last_match`` keeps the last iteration where ``condition`` holds."""

    index: str
    operator: str  # min, max or last_match
    key: object = field(repr=False, compare=False)
    best: str | None = None
    index_value: object = field(default=None, repr=False, compare=False)
    condition: object = field(default=None, repr=False, compare=False)
    strict: bool = True
    statement: object = field(default=None, repr=False, compare=False)
    index_type: CType | None = None
    best_type: CType | None = None


@dataclass(frozen=True)
class Recurrence:
    """``A[i] = op(A[i - 1], v)``: a running max/min or sum kept in an array. ``fold`` is
    the term computing the element from the previous one; ``first`` the first iteration's
    own value (a ``var == lower`` test chose it) or None; ``statement`` the loop body
    statement holding the recurrence (an assignment, or the ``if`` whose branches assign);
    ``alone`` when it is the body's only statement."""

    base: str
    operator: str
    value: object = field(repr=False, compare=False)
    statement: object = field(repr=False, compare=False)
    first_rule: bool = False  # the fold's own condition takes the value at the first iteration
    compare: str = ""  # max/min: the new value is taken when ``value compare previous``
    fold: Term | None = field(default=None, repr=False, compare=False)
    first: Term | None = field(default=None, repr=False, compare=False)
    alone: bool = True
    previous: tuple[tuple[int, int], ...] = ()  # byte spans of the reads of A[i - 1]

    @property
    def from_identity(self) -> bool:
        """The running value need not start from the element before the loop."""
        return self.first_rule or self.first is not None


@dataclass(frozen=True)
class BlockCheck:
    """A strided loop owns [var, var + step) only if every offset stays in [0, step): the
    offsets' lowest and highest values (candidates) are tested before the loop."""

    base: str
    step: Poly
    lows: tuple[Poly, ...]
    highs: tuple[Poly, ...]


@dataclass(frozen=True)
class RowsCheck:
    """Rows reached through pointers (and the arrays that may share their storage): the
    spans the loop touches through ``bases`` are tested apart before the loop."""

    bases: tuple[str, ...]


@dataclass(frozen=True)
class Append:
    """``base.push_back(v)`` appends in iteration order to a std::vector declared outside
    the loop, which the loop touches no other way."""

    base: str
    ctype: CType


@dataclass(frozen=True)
class ExtentCheck:
    """``c.at(k)`` throws past the end: parallel only when every index the loop gives
    ``base`` lies in [0, base.size()) (else the original loop runs, and throws)."""

    base: str


@dataclass(frozen=True)
class ObjectCheck:
    """Two references to containers that may be one object: parallel when they are not."""

    first: str
    second: str


@dataclass(frozen=True)
class RangeCheck:
    """Pointers that may overlap at an offset: parallel when the touched ranges are apart."""

    first: str
    second: str
    same_index: bool


@dataclass
class Verdict:
    loop: LoopModel
    dependence: Dependence | None = None
    reducers: list[Reducer] = field(default_factory=list)
    privates: list[str] = field(default_factory=list)
    lastprivates: list[str] = field(default_factory=list)
    owned: list[OwnedWrite] = field(default_factory=list)
    scatters: list[Scatter] = field(default_factory=list)
    scan: Scan | None = None
    search: Search | None = None
    locate: Locate | None = None
    recurrence: Recurrence | None = None
    object_checks: list[ObjectCheck] = field(default_factory=list)
    range_checks: list[RangeCheck] = field(default_factory=list)
    block_checks: list[BlockCheck] = field(default_factory=list)
    extent_checks: list[ExtentCheck] = field(default_factory=list)
    appends: list[Append] = field(default_factory=list)
    row_checks: list[RowsCheck] = field(default_factory=list)
    word_blocks: int = 0  # std::vector<bool> written: iterate in blocks of this many bits
    triangular: bool = False  # an inner loop's bounds mention the loop's variable
    uneven: bool = False  # ... in one bound only: its trip count changes with the iteration
    irregular: bool = False
    facts: list[str] = field(default_factory=list)

    @property
    def parallel(self) -> bool:
        return self.dependence is None

    @property
    def word_chunk(self) -> int:
        """Iterations per schedule chunk of a loop that writes a ``std::vector<bool>``: 64 whole
        words, so no two threads share one (0 when it writes none)."""
        return self.word_blocks * 64

    @property
    def versioned(self) -> bool:
        return bool(self.object_checks or self.range_checks or self.block_checks
                    or self.extent_checks or self.row_checks)

    @property
    def pattern(self) -> str:
        if not self.parallel:
            return "refused"
        if self.search is not None:
            return "search"
        if self.locate is not None:
            return "last match" if self.locate.operator == "last_match" \
                else f"arg{self.locate.operator}"
        if self.scan is not None:
            return "scan"
        if self.recurrence is not None:
            return f"running {self.recurrence.operator}"
        if self.scatters:
            return "scatter"
        if self.appends:
            return "append"
        if self.reducers:
            return "map+reduction" if self.owned else "reduction"
        return "map"

    def refuse(self, kind: str, subject: str, text: str) -> Verdict:
        self.dependence = Dependence(kind, subject, text)
        return self
