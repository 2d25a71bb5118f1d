"""The typed loop model every analysis and emitter reads: built once per loop by a front end
(C/C++ in :mod:`ellora.tools.loops.cpp`, Fortran beside it), never re-parsed downstream.

A :class:`LoopModel` holds the loop's :class:`LoopHeader`, every element access as an
:class:`Access` (base, one polynomial index per dimension or None when unreadable, read /
write / update, the comparisons that hold where it runs, the loops around it), every event on
a scalar declared outside the loop, every call with its :class:`CallEffect`, and every exit
(return, break, goto, throw). :mod:`ellora.tools.loops.legality` turns it into a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ellora.tools.loops.bounds import Interval, RangeEnv
from ellora.tools.loops.calls import CallEffect
from ellora.tools.loops.cxx_types import CType
from ellora.tools.loops.expr import ONE, AtomTable, Poly
from ellora.tools.loops.terms import Guard, Term


@dataclass(frozen=True)
class Comparison:
    """``left op right`` known to hold where an access runs (op in < <= > >= == !=)."""

    left: Poly
    op: str
    right: Poly


@dataclass
class LoopHeader:
    """A counted loop: ``var`` takes ``lower, lower + step, ...`` while below ``upper``
    (exclusive); a descending loop visits the same set from the top. ``range_of`` is set for
    a range-based loop over a container (``element`` names the loop's element variable)."""

    var: str
    var_type: CType | None
    declares: bool
    lower: Poly
    upper: Poly
    step: Poly
    lower_text: str
    upper_text: str
    step_text: str = "1"
    descending: bool = False
    range_of: str | None = None
    element: str | None = None
    element_reference: bool = False
    element_type: CType | None = None
    canonical_test: str | None = None  # the test rewritten for OpenMP (``i < n - 1``)
    iterator: str | None = None  # ``it`` of ``for (auto it = v.begin(); ...)``: *it is v[var]
    steps_in_test: bool = False  # ``for (size_t i = n; i-- > 0;)``: the test moves ``var``
    bindings: tuple[str, ...] = ()  # ``for (auto& [k, v] : pairs)``: each names the element
    line: int = 0
    node: object = field(default=None, repr=False)

    @property
    def unit_step(self) -> bool:
        return self.step == ONE

    @property
    def interval(self) -> Interval:
        return Interval(self.lower, self.upper - ONE)

    @property
    def type_text(self) -> str:
        if self.var_type is None or self.var_type.kind == "auto":
            return "long long"
        return self.var_type.name


@dataclass
class Access:
    """One element access. ``mode``: read, write (plain assignment) or update (``+=``,
    ``++``, ... which reads too). ``indices`` has one polynomial per subscript (None when
    unreadable); ``whole`` marks an access to every element (a range passed to an
    algorithm). ``loops`` are the headers of the loops around it, from the analysed loop
    inward; ``open_loops`` counts non-counted loops (while) around it there."""

    base: str
    indices: tuple[Poly | None, ...]
    texts: tuple[str, ...]
    mode: str
    operator: str = ""
    node: object = field(default=None, repr=False)
    statement: object = field(default=None, repr=False)
    value: object = field(default=None, repr=False)
    conditions: tuple[Comparison, ...] = ()
    conditional: bool = False
    loops: tuple[LoopHeader, ...] = ()
    open_loops: int = 0
    member: str | None = None
    whole: bool = False
    term: Term | None = None  # the value written (write/update)
    guard: Guard | None = None  # the if right around the statement
    top_index: int = -1  # which statement of the loop body holds it
    standalone: bool = False  # the update is a whole statement (``a[k] += v;``)
    checked: bool = False  # through ``c.at(k)``: throws std::out_of_range past the end

    @property
    def writes(self) -> bool:
        return self.mode in ("write", "update")

    @property
    def readable(self) -> bool:
        return not self.whole and all(i is not None for i in self.indices)


@dataclass
class ScalarEvent:
    """A read, write or update of a scalar declared outside the loop. ``top_level``: the
    statement is directly in the loop body (runs in every iteration, unconditionally)."""

    name: str
    mode: str
    operator: str = ""
    node: object = field(default=None, repr=False)
    statement: object = field(default=None, repr=False)
    value: object = field(default=None, repr=False)
    conditional: bool = False
    top_level: bool = False
    in_inner_loop: bool = False
    position: int = 0
    term: Term | None = None  # the value written (write/update)
    guard: Guard | None = None  # the if right around the statement
    top_index: int = -1  # which statement of the loop body holds it


@dataclass
class CallSite:
    effect: CallEffect
    node: object = field(default=None, repr=False)
    line: int = 0
    private_object: bool = False  # a member call on an object declared inside the loop


@dataclass
class Exit:
    """A statement that may leave an iteration: return, break, continue, goto or throw;
    ``leaves_loop`` when it leaves the analysed loop itself (not an inner one)."""

    kind: str
    node: object = field(default=None, repr=False)
    leaves_loop: bool = True
    term: Term | None = None  # the returned value
    guard: Guard | None = None
    top_index: int = -1


@dataclass
class Base:
    """Storage reached by subscripts: a parameter, local or global of an indexable type, or
    a member path (``d.x``). ``distinct``: no other base can share its storage (a local
    array or container owned by the function, a restrict pointer, a Fortran dummy argument
    without pointer or target); ``rule`` names the language rule relied on."""

    name: str
    ctype: CType
    where: str
    distinct: bool = False
    rule: str = ""  # the language rule that makes it distinct (or lets it share), said in facts
    checkable: bool = True  # the emitters can test at run time whether it overlaps another

    @property
    def element(self) -> CType | None:
        return self.ctype.element


@dataclass
class FunctionContext:
    """The function around a loop: its source, the front end's scope object and atoms."""

    source: str
    language: str
    definition: object = field(repr=False)
    scope: object = field(repr=False)
    atoms: AtomTable = field(default_factory=AtomTable)
    name: str = "loop"
    c_source: bool = False  # a C file: code written into it must be C


@dataclass
class LoopModel:
    header: LoopHeader
    function: FunctionContext
    node: object = field(default=None, repr=False)
    body: object = field(default=None, repr=False)
    accesses: list[Access] = field(default_factory=list)
    scalars: dict[str, list[ScalarEvent]] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    exits: list[Exit] = field(default_factory=list)
    bases: dict[str, Base] = field(default_factory=dict)
    locals: set[str] = field(default_factory=set)
    inner: list[LoopHeader] = field(default_factory=list)
    unreadable_inner: list[str] = field(default_factory=list)
    nonnegative: set[str] = field(default_factory=set)
    obstacles: list[str] = field(default_factory=list)  # what the front end could not read
    outer_facts: list[Poly] = field(default_factory=list)  # from loops around this one
    direct_inner_loops: list = field(default_factory=list, repr=False)  # nodes
    # the loop body's own statements, in order: declaration, if, expression, loop, other
    top_statements: list[str] = field(default_factory=list)
    statements: list = field(default_factory=list, repr=False)  # ... and their nodes
    # outer scalars read after the loop, or in a loop around it (live across iterations)
    used_outside: set[str] = field(default_factory=set)
    # local arrays named nowhere outside the loop but in their declaration (and Fortran's
    # allocate/deallocate), the loop not inside another: nothing reads them afterwards, so
    # a distributed loop need not gather them
    confined: set[str] = field(default_factory=set)

    @property
    def line(self) -> int:
        return self.header.line

    @property
    def end_line(self) -> int:
        return self.node.end_point[0] + 1 if self.node is not None else self.header.line

    def env(self, loops: tuple[LoopHeader, ...] = ()) -> RangeEnv:
        """Ranges of this loop's variable and of ``loops`` (the inner headers around an
        access), with the function's non-negative names."""
        env = RangeEnv(self.function.atoms, nonnegative=set(self.nonnegative))
        env = env.with_facts(self._division_facts(env) + self.outer_facts)
        for header in (self.header, *loops):
            if header.var in env.intervals and header is self.header:
                continue
            env = env.with_interval(header.var, header.interval)
        return env

    def _division_facts(self, env: RangeEnv) -> list[Poly]:
        """For ``d = e / c`` (c > 0, e >= 0): ``c * d <= e <= c * d + c - 1``."""
        facts = []
        for atom in self.function.atoms:
            if atom.kind != "division" or atom.numerator is None or not atom.divisor:
                continue
            if not env.proves_nonnegative(atom.numerator):
                continue
            quotient = Poly.symbol(atom.key)
            facts += [atom.numerator - quotient * atom.divisor,
                      quotient * atom.divisor + (atom.divisor - 1) - atom.numerator]
            atom.nonnegative = True
        return facts

    def written_bases(self) -> list[str]:
        return sorted({a.base for a in self.accesses if a.writes})

    def accesses_of(self, base: str) -> list[Access]:
        return [a for a in self.accesses if a.base == base]

    def render(self, poly: Poly) -> str:
        return self.function.atoms.render(poly)

    def spell(self, base: str, texts: tuple[str, ...] | list[str]) -> str:
        """An element as the loop's language writes it: ``a[i][j]``, or ``a(i, j)``."""
        if self.function.language == "fortran":
            return f"{base.replace('.', '%')}({', '.join(texts)})"
        return f"{base}[{']['.join(texts)}]"


def parse_error(loop, language: str) -> str:
    """The reason a loop cannot be analysed when its text does not parse (tree-sitter
    recovers from a syntax error and would otherwise hand the rules a wrong tree), else ""."""
    if not loop.has_error:
        return ""
    stack = [loop]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return (f"line {node.start_point[0] + 1}: the loop does not parse as {language} "
                    "(a syntax error); fix it and try again")
        stack.extend(reversed(node.children))
    return f"line {loop.start_point[0] + 1}: the loop does not parse as {language}"
