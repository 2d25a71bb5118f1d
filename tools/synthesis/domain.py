"""The input domain: how big each input is and which values the index inputs take, as
quantities of the case size, checked at every size the tests run.

From the :class:`~ellora.tools.synthesis.facts.Facts`:

- every *dimension* (a scalar parameter that bounds loops, a container whose size the
  function reads, a container indexed only through other inputs) gets the case's base size
  ``d = round(size ** (1 / degree))`` plus a small offset of its own (so ``M``, ``N``, ``K``
  differ and a swapped bound shows), and at least a minimum of its own;
- a container of records whose members index other inputs (``A[k].row``, ``A[k].column``:
  a coordinate list of a sparse matrix, an edge list of a graph) whose length is free gets
  ``RECORDS_PER_INDEX`` times the base size: with one record per row, a parallel scatter
  into a per-thread copy of the rows costs as much as the loop itself, which no sparse
  matrix or graph worth parallelizing has (real ones hold 5-100 entries per row);
- every other container gets the size its accesses need: the largest index candidate + 1;
- every input read as an index (``col[k]``, ``A[i].row``, ``k`` in ``y[k - 1]``) gets the
  range its uses allow: ``x[col[k]]`` keeps ``col`` in ``[0, size(x) - 1]``; a range loop's
  bound ``row_ptr[r] .. row_ptr[r + 1]`` keeps ``row_ptr`` in ``[0, size(cols)]`` (sorted);
  ``a.row * N + x.column`` into ``M * N`` storage keeps rows below M and columns below N;
- what is not true by construction (an index's lowest value, an access to storage of a
  fixed size, an unsigned ``x.size() - 1`` in a loop condition, a non-empty index range)
  becomes a check: the minimums are raised, one step at a time for the dimensions a failing
  check depends on, until every check holds at every test size; the harness repeats the
  checks at run time for any other size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ellora.tools.loops.expr import Poly, is_atom
from ellora.tools.synthesis.facts import Facts, Obligation
from ellora.tools.synthesis.quantity import (
    Div,
    Expr,
    Extreme,
    FloorDiv,
    Gate,
    Num,
    Ref,
    Root,
    Sum,
    evaluate,
    ordered,
)
from ellora.tools.synthesis.target import CannotSynthesize

SIZE, BASE = "size", "base"
MAX_MINIMUM = 16  # the largest minimum a dimension may need
RECORDS_PER_INDEX = 8  # records of a free-length coordinate or edge list per base size
MEMORY_BUDGET = 1 << 30  # bytes of inputs at the largest size the tests and timing use
_NO_SOURCE = "no-source"


@dataclass
class Check:
    """``expr >= 0`` must hold at every size the harness runs."""

    expr: Expr
    message: str


@dataclass
class Domain:
    """The quantities of the harness (in the order it computes them) and their roles."""

    degree: int
    minimums: dict[str, int]  # "min:<free quantity>" -> its smallest value
    quantities: list[tuple[str, Expr]]
    extents: dict[str, str] = field(default_factory=dict)  # container path -> quantity
    ranges: dict[str, tuple[str, str]] = field(default_factory=dict)  # source -> (lo, hi)
    dims: dict[str, str] = field(default_factory=dict)  # scalar parameter/member -> quantity
    checks: list[Check] = field(default_factory=list)
    sorted_sources: set[str] = field(default_factory=set)
    inner_free: set[str] = field(default_factory=set)  # inner extents that may grow
    record_lists: list[str] = field(default_factory=list)  # scaled by RECORDS_PER_INDEX

    def values_at(self, size: int) -> dict[str, int]:
        return evaluate(self.quantities, {SIZE: size, **self.minimums})


def solve(facts: Facts, sizes: list[int], element_bytes) -> Domain:
    """The domain for ``facts`` that holds at every size in ``sizes``
    (CannotSynthesize with the first check that fails, or a dependency cycle)."""
    degree = facts.degree
    while True:
        builder = _Builder(facts, degree)
        domain = builder.build()
        _raise_minimums(domain, sizes)
        largest = domain.values_at(max(sizes))
        memory = sum(largest[q] * element_bytes(path) for path, q in domain.extents.items()
                     if not path.endswith("[]"))
        if memory <= MEMORY_BUDGET or degree >= 6:
            return domain
        degree += 1  # the inputs grow faster than the work: a smaller base size


class _Builder:
    """Turns obligations into quantities, ranges and checks (one pass, one degree)."""

    def __init__(self, facts: Facts, degree: int):
        self.facts = facts
        self.degree = degree
        self.quantities: dict[str, Expr] = {BASE: Root(Ref(SIZE), degree)}
        self.checks: list[Check] = []
        self.highs: dict[str, list[Expr]] = {}
        self.minimums: dict[str, int] = {}
        self.purely_free: set[str] = set()  # free extents no other input constrains
        self.lows: dict[str, list[Expr]] = {}
        self.offsets = 0
        # containers whose records' members are indices (``A[k].row``): one holder rule
        self.records = {self._holder(source) for source in facts.placeholders.values()
                        if "." in source}

    # ----- the whole domain ---------------------------------------------------------------
    def build(self) -> Domain:
        facts = self.facts
        domain = Domain(self.degree, {}, [])
        for name in sorted(facts.dims, key=self._param_order):
            domain.dims[name] = self._free(f"dim:{name}", divided=name in facts.scan.divided_by)
        for member in sorted(self._member_dims()):
            domain.dims[member] = self._free(f"dim:{member}")
        plain, valued = self._split_obligations()
        containers = self._container_paths(plain, valued)
        for path in containers:
            domain.extents[path] = f"ext:{path}"
        for path in containers:
            self._extent(path, plain.get(path, []), valued.get(path, []), domain)
        for obligation in [o for group in valued.values() for o in group]:
            self._value_obligation(obligation)
        for source in facts.nonnegative_sources:  # read as x % m: kept >= 0
            self.lows.setdefault(source, []).append(Num(0))
        self._ranges(domain)
        for poly, why in facts.requirements:
            self.checks.append(Check(self.expr(poly, "min"), why))
        domain.sorted_sources = {s for s in facts.bound_sources if s in domain.ranges}
        unique = {}
        for check in self.checks:
            unique.setdefault(check.expr, check)
        domain.checks = list(unique.values())
        domain.minimums = dict(self.minimums)
        try:
            domain.quantities = ordered(self.quantities, {SIZE, *self.minimums})
        except ValueError as cycle:
            raise CannotSynthesize(f"the sizes and index ranges of the inputs depend on each "
                                   f"other ({cycle})") from None
        return domain

    def _param_order(self, name: str) -> tuple[int, str]:
        param = self.facts.target.param(name.split(".")[0])
        return (param.position if param is not None else 99, name)

    def _member_dims(self) -> set[str]:
        members = set()
        for obligation in self.facts.obligations:
            for poly in obligation.upper + obligation.lower:
                for symbol in poly.symbols():
                    atom = self.facts.atoms.get(symbol) if is_atom(symbol) else None
                    if atom is not None and atom.kind == "member":
                        members.add(atom.text.replace(" ", "").replace("->", "."))
        return members

    def _free(self, name: str, divided: bool = False, scale: int = 1) -> str:
        """A free quantity: ``scale`` times the base size plus its own offset, at least the
        minimum."""
        self.minimums[f"min:{name}"] = 1 if divided else 0
        floor = [Ref(f"min:{name}")]
        self.quantities[name] = Extreme((Sum(((scale, (Ref(BASE),)), (self.offsets, ()))),
                                         *floor))
        self.offsets += 1
        return name

    # ----- containers -----------------------------------------------------------------------
    def _split_obligations(self):
        plain: dict[str, list[Obligation]] = {}
        valued: dict[str, list[Obligation]] = {}
        for obligation in self.facts.obligations:
            has_value = any(s in self.facts.placeholders for p in obligation.upper +
                            obligation.lower for s in p.symbols())
            (valued if has_value else plain).setdefault(obligation.container, []).append(
                obligation)
        return plain, valued

    def _container_paths(self, plain, valued) -> list[str]:
        paths = list(self.facts.containers)
        for path in [*plain, *valued]:
            if path not in paths:
                paths.append(path)
        return paths

    def _extent(self, path: str, plain: list[Obligation], valued: list[Obligation],
                domain: Domain) -> None:
        """The extent of one container: fixed, forced by the function, free or derived."""
        container = self.facts.containers.get(path)
        ctype = container.ctype if container is not None else None
        name = f"ext:{path}"
        requirements, checked = [], []
        for obligation in plain:
            for upper in obligation.upper:
                largest = self.expr(upper, "max")
                if name in largest.refs():  # the index grows with the container's own size
                    checked.append((upper, obligation))
                else:
                    requirements.append(Sum(((1, (largest,)), (1, ()))))
            for lower in obligation.lower:
                self._not_negative(lower, obligation)
        fixed = _fixed_extent(ctype)
        if fixed is not None or (container is not None and container.forced is not None):
            extent_poly = Poly.const(fixed) if fixed is not None else container.forced
            self.quantities[name] = self.expr(extent_poly, "max")
            for obligation in plain:
                for upper in obligation.upper:
                    self._below(path, extent_poly, upper, obligation)
            return
        size_read = container is not None and container.size_read
        pointer = ctype is not None and ctype.kind in ("pointer", "array")
        if path.endswith("[]"):
            domain.inner_free.add(path)
        if size_read or not requirements:
            if pointer and not size_read and not valued:
                if path not in self.facts.mentioned:
                    self.quantities[name] = Num(1)  # never used: any valid pointer will do
                    return
                raise CannotSynthesize(f"the pointer {path} is never indexed where the "
                                       "analysis can see: its extent is unknown")
            scale = RECORDS_PER_INDEX if path in self.records else 1
            if scale > 1:
                domain.record_lists.append(path)
            free = self._free(f"free:{path}", scale=scale)
            self.quantities[name] = Extreme((Ref(free), *requirements))
            if not requirements:
                self.purely_free.add(path)
        else:
            self.quantities[name] = Extreme((Num(0), *requirements))
        own = next((Poly.symbol(a.key) for a in self.facts.atoms
                    if a.kind == "size" and a.base == path), None)
        for upper, obligation in checked:
            self._below(path, own, upper, obligation)

    def _below(self, path: str, extent: Poly | None, upper: Poly, obligation) -> None:
        """Check ``upper <= extent - 1`` unless it holds whatever the sizes."""
        message = f"the index in {obligation.where} must stay below the size of {path}"
        if extent is not None:
            slack = extent - Poly.const(1) - upper
            if not self._surely_nonnegative(slack):
                self.checks.append(Check(self.expr(slack, "min"), message))
            return
        self.checks.append(Check(Sum(((1, (Ref(f"ext:{path}"),)), (-1, ()),
                                      (-1, (self.expr(upper, "max"),)))), message))

    def _not_negative(self, lower: Poly, obligation) -> None:
        if not self._surely_nonnegative(lower):
            self.checks.append(Check(self.expr(lower, "min"), f"the index in "
                                     f"{obligation.where} must not be negative"))

    @staticmethod
    def _surely_nonnegative(poly: Poly) -> bool:
        """Every quantity the harness computes is >= 0 at the low corner (sizes, dimensions,
        the low ends of index ranges), so positive terms and a constant >= 0 suffice."""
        return poly.constant >= 0 and all(c > 0 for m, c in poly.terms.items() if m != ())

    # ----- values used as indices -----------------------------------------------------------
    def _value_obligation(self, obligation: Obligation) -> None:
        extent = Ref(f"ext:{obligation.container}")
        for upper in obligation.upper:
            self._upper_constraint(upper, extent, obligation)
        for lower in obligation.lower:
            self._lower_constraint(lower, obligation)

    def _split(self, poly: Poly) -> tuple[dict[str, Poly], Poly]:
        """(coefficient of each placeholder, the rest); CannotSynthesize when placeholders
        multiply each other."""
        coefficients: dict[str, Poly] = {}
        rest: dict = {}
        for monomial, value in poly.terms.items():
            found = [s for s in monomial if s in self.facts.placeholders]
            if len(found) > 1:
                raise CannotSynthesize("an index multiplies two input values")
            if found:
                reduced = list(monomial)
                reduced.remove(found[0])
                previous = coefficients.get(found[0], Poly())
                coefficients[found[0]] = previous + Poly({tuple(reduced): value})
            else:
                rest[monomial] = value
        return coefficients, Poly(rest)

    def _upper_constraint(self, upper: Poly, extent: Expr, obligation: Obligation) -> None:
        coefficients, rest = self._split(upper)
        if not coefficients:
            self._below(obligation.container, None, upper, obligation)
            return
        room = Sum(((1, (extent,)), (-1, ()), (-1, (self.expr(rest, "max"),))))
        if len(coefficients) == 1:
            (placeholder, coefficient), = coefficients.items()
            value = coefficient.const_value()
            source = self.facts.placeholders[placeholder]
            if value is not None and value > 0:
                self.highs.setdefault(source, []).append(FloorDiv(room, value))
                return
            if value is not None and value < 0:
                self.lows.setdefault(source, []).append(
                    Sum(((-1, (FloorDiv(room, -value),)),)))
                return
        if self._rows_and_columns(coefficients, rest, obligation):
            return
        raise CannotSynthesize(f"the index in {obligation.where} combines input values in a "
                               "way the harness cannot keep in range")

    def _rows_and_columns(self, coefficients: dict[str, Poly], rest: Poly,
                          obligation: Obligation) -> bool:
        """``row * F + column`` into storage of ``G * F`` elements: rows below G, columns
        below F (coordinate-format matrices)."""
        container = self.facts.containers.get(obligation.container)
        if rest != Poly() or len(coefficients) != 2 or container is None or \
                container.forced is None:
            return False
        row = next((p for p, c in coefficients.items() if c.const_value() is None), None)
        column = next((p for p, c in coefficients.items() if c == Poly.const(1)), None)
        if row is None or column is None:
            return False
        stride = coefficients[row]
        rows = container.forced.divide_exactly(stride)
        if rows is None:
            return False
        sources = self.facts.placeholders
        self.highs.setdefault(sources[row], []).append(
            Sum(((1, (self.expr(rows, "max"),)), (-1, ()))))
        self.highs.setdefault(sources[column], []).append(
            Sum(((1, (self.expr(stride, "max"),)), (-1, ()))))
        return True

    def _lower_constraint(self, lower: Poly, obligation: Obligation) -> None:
        coefficients, rest = self._split(lower)
        if not coefficients:
            self._not_negative(lower, obligation)
            return
        floor = self.expr(rest, "min")
        if len(coefficients) == 1:
            (placeholder, coefficient), = coefficients.items()
            value = coefficient.const_value()
            source = self.facts.placeholders[placeholder]
            if value is not None and value > 0:  # value * v + rest >= 0
                self.lows.setdefault(source, []).append(
                    Sum(((-1, (FloorDiv(floor, value),)),)))
                return
            if value is not None and value < 0:
                self.highs.setdefault(source, []).append(FloorDiv(floor, -value))
                return
        for placeholder, coefficient in coefficients.items():  # all non-negative terms
            if not self._nonnegative(coefficient):
                raise CannotSynthesize(f"the index in {obligation.where} may be negative")
            self.lows.setdefault(self.facts.placeholders[placeholder], []).append(Num(0))
        self.checks.append(Check(floor, f"the index in {obligation.where} must not be "
                                 "negative"))

    def _nonnegative(self, poly: Poly) -> bool:
        return all(value > 0 for value in poly.terms.values())

    def _ranges(self, domain: Domain) -> None:
        """Each index input's range (the tightest of its uses), and a gate on the container
        holding it: no room for its values means no elements."""
        sources = sorted(set(self.highs) | set(self.lows))
        gates: dict[str, list[tuple[Expr, Expr]]] = {}
        for source in sources:
            low_name, high_name = f"lo:{source}", f"hi:{source}"
            lows = [Num(self._type_floor(source)), *self.lows.get(source, [])]
            self.quantities[low_name] = Extreme(tuple(lows), largest=True)
            highs = self.highs.get(source) or [Sum(((1, (Ref(low_name),)), (10, ())))]
            self.quantities[high_name] = Extreme(tuple(highs), largest=False)
            domain.ranges[source] = (low_name, high_name)
            holder = self._holder(source)
            pair = (Ref(high_name), Ref(low_name))
            room = Sum(((1, (pair[0],)), (-1, (pair[1],))))
            if holder is None or f"ext:{holder}" not in self.quantities:  # a scalar value
                self.checks.append(Check(room, f"{source} needs a value in its range"))
            elif holder in self.purely_free:
                gates.setdefault(holder, []).append(pair)
            else:  # a size fixed by other inputs: the range must not be empty when it is not
                extent = Ref(f"ext:{holder}")
                self.checks.append(Check(Gate(((extent, Num(1)),), room),
                                         f"the values of {source} need a non-empty range"))
        for holder, pairs in gates.items():
            name = f"ext:{holder}"
            raw = f"raw:{holder}"
            self.quantities[raw] = self.quantities[name]
            self._retarget(raw, name)
            self.quantities[name] = Gate(tuple(pairs), Ref(raw))

    def _holder(self, source: str) -> str | None:
        """The container whose elements hold a source's values (None for a scalar)."""
        if "." in source:
            return source.rsplit(".", 1)[0]
        if source.endswith("[]"):
            return source
        param = self.facts.target.param(source)
        return source if param is not None and param.ctype.indexable else None

    def _retarget(self, raw: str, name: str) -> None:
        """Bounds of a container's own index values use its size before the gate."""
        for key, expr in list(self.quantities.items()):
            if key.startswith(("lo:", "hi:")) and name in expr.refs():
                source = key.split(":", 1)[1]
                if self._holder(source) == name.split(":", 1)[1]:
                    self.quantities[key] = _replace_ref(expr, name, raw)

    def _type_floor(self, source: str) -> int:
        return 0

    # ----- polynomials to quantities ----------------------------------------------------------
    def expr(self, poly: Poly, corner: str) -> Expr:
        """``poly`` over the harness's quantities; placeholders at the ``corner`` (max or
        min) of their ranges."""
        terms = []
        for monomial, coefficient in poly.terms.items():
            factors = []
            for symbol in monomial:
                if symbol in self.facts.placeholders:
                    source = self.facts.placeholders[symbol]
                    high = (coefficient > 0) == (corner == "max")
                    factors.append(Ref(f"{'hi' if high else 'lo'}:{source}"))
                else:
                    factors.append(self._symbol(symbol))
            terms.append((coefficient, tuple(factors)))
        return Sum(tuple(terms))

    def _symbol(self, symbol: str) -> Expr:
        facts = self.facts
        if not is_atom(symbol):
            if symbol in facts.dims:
                return Ref(f"dim:{symbol}")
            raise CannotSynthesize(f"{symbol} has no value the harness can set")
        atom = facts.atoms.get(symbol)
        if atom.kind == "size":
            return Ref(f"ext:{atom.base}")
        if atom.kind == "member":
            return Ref(f"dim:{atom.text.replace(' ', '').replace('->', '.')}")
        if atom.kind == "division" and atom.numerator is not None and atom.divisor:
            return Div(self.expr(facts.mapping(atom.numerator), "max"), atom.divisor)
        raise CannotSynthesize(f"{atom.text} has no value the harness can set")


def _replace_ref(expr: Expr, old: str, new: str) -> Expr:
    if isinstance(expr, Ref):
        return Ref(new) if expr.name == old else expr
    if isinstance(expr, Sum):
        return Sum(tuple((c, tuple(_replace_ref(f, old, new) for f in fs))
                         for c, fs in expr.terms))
    if isinstance(expr, Extreme):
        return Extreme(tuple(_replace_ref(i, old, new) for i in expr.items), expr.largest)
    if isinstance(expr, (Div, FloorDiv)):
        return type(expr)(_replace_ref(expr.numerator, old, new), expr.divisor)
    return expr


def _fixed_extent(ctype) -> int | None:
    if ctype is not None and ctype.kind in ("std_array", "array") and ctype.extent:
        try:
            return int(ctype.extent.rstrip("uUlLzZ"))
        except ValueError:
            raise CannotSynthesize(f"the size of {ctype.name} ({ctype.extent}) is not a "
                                   "number the harness can read") from None
    return None


def _raise_minimums(domain: Domain, sizes: list[int]) -> None:
    """Raise the minimums of the dimensions a failing check depends on, one step at a time,
    until every check holds at every size (CannotSynthesize with the first check that no
    minimum up to MAX_MINIMUM satisfies)."""
    uses = dict(domain.quantities)
    while True:
        failure = _first_failure(domain, sizes)
        if failure is None:
            return
        size, check = failure
        free = _free_minimums(check.expr.refs(), uses)
        if not free or any(domain.minimums[m] >= MAX_MINIMUM for m in free):
            raise CannotSynthesize(f"no input sizes satisfy the code at size {size}: "
                                   f"{check.message}")
        for minimum in free:
            domain.minimums[minimum] += 1


def _free_minimums(refs: set[str], uses: dict[str, Expr]) -> set[str]:
    """The minimums a set of quantities depends on, through every quantity in between."""
    found, seen, pending = set(), set(), list(refs)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.startswith("min:"):
            found.add(name)
        elif name in uses:
            pending.extend(uses[name].refs())
    return found


def _first_failure(domain: Domain, sizes: list[int]):
    for size in sizes:
        values = domain.values_at(size)
        for check in domain.checks:
            if check.expr.value(values) < 0:
                return size, check
    return None
