"""Arrays the loop writes: does every iteration write only its own part?

Each access's subscript becomes a list of *coordinates*: the subscripts themselves, or one
flat subscript split as ``stride * q + r`` with ``r`` proved in ``[0, stride)`` (a row-major
``A[i * n + j]`` is row ``i``, column ``j``; a transposed ``A[j * n + i]`` is column ``i``).
A base is owned by the iterations when, at one coordinate, every write is ``var * s + c``
and every other access either has the same ``c`` (the same iteration) or provably never
meets the values the writes take (rows read above the loop's range, the other half of a
split). Shared updates ``A[k] += v`` become a scatter; ``A[i] = A[i - 1] op v`` a running
value; anything else is a dependence, named.
"""

from __future__ import annotations

from ellora.tools.loops.bounds import RangeEnv
from ellora.tools.loops.expr import ONE, Poly
from ellora.tools.loops.legality.verdict import BlockCheck, OwnedWrite, Scatter, Verdict
from ellora.tools.loops.model import Access, Comparison, LoopModel

_SCATTER_OPERATORS = {"+=": "+", "-=": "+", "++": "+", "--": "+"}


def flat_index(model: LoopModel, access: Access) -> Poly | None:
    """The element offset from the start of the base's storage: the one subscript, or
    ``i * E + j`` for a C array of arrays (``double a[N][M]``, rows of a known extent E
    stored one after another); None when the storage is not one flat run."""
    if not access.readable:
        return None
    if len(access.indices) == 1:
        return access.indices[0]
    ctype = model.bases[access.base].ctype
    flat = access.indices[0]
    for index in access.indices[1:]:
        row = ctype.element
        if row is None or row.kind != "array":
            return None
        extent = _extent_poly(model, row.extent)
        if extent is None:
            return None
        flat = flat * extent + index
        ctype = row
    return flat


def _extent_poly(model: LoopModel, extent: str | None) -> Poly | None:
    if extent is None:
        return None
    extent = extent.strip()
    if extent.isdigit():
        return Poly.const(int(extent))
    if extent.isidentifier():
        return Poly.symbol(extent)
    return None


def access_env(model: LoopModel, access: Access) -> RangeEnv:
    """The ranges where ``access`` runs: the loops around it and the comparisons that
    hold there."""
    env = model.env(access.loops)
    facts = []
    for comparison in access.conditions:
        facts += comparison_facts(comparison)
    return env.with_facts(facts) if facts else env


def comparison_facts(comparison: Comparison) -> list[Poly]:
    left, op, right = comparison.left, comparison.op, comparison.right
    if op == "<":
        return [right - left - ONE]
    if op == "<=":
        return [right - left]
    if op == ">":
        return [left - right - ONE]
    if op == ">=":
        return [left - right]
    if op == "==":
        return [left - right, right - left]
    return []


def variant_names(model: LoopModel) -> set[str]:
    """Names whose value may change while the loop runs (written inside it)."""
    names = {n for n, events in model.scalars.items() if any(e.mode != "read" for e in events)}
    return names | set(model.locals)


def invariant(poly: Poly, model: LoopModel, loop_names: set[str], variant: set[str],
              written: set[str]) -> bool:
    """Whether ``poly`` reads only loop variables in ``loop_names`` and values the loop
    does not change (names not written, loads from bases not written)."""
    atoms = model.function.atoms
    for symbol in poly.symbols():
        atom = atoms.get(symbol)
        if atom is None:
            if symbol in variant and symbol not in loop_names:
                return False
            continue
        if atom.kind == "load" and (atom.base is None or atom.base in written):
            return False
        if atom.kind in ("call", "other", "member") and atom.names & written:
            return False
        if any(n in variant and n not in loop_names for n in atom.names):
            return False
        if any(n in loop_names for n in atom.names) and atom.kind not in ("load", "modulo",
                                                                         "division", "size"):
            return False
    return True


def check_arrays(model: LoopModel, verdict: Verdict) -> None:
    variant = variant_names(model)
    written = set(model.written_bases())
    for base in sorted(written):
        accesses = model.accesses_of(base)
        reason = _unreadable(model, base, accesses)
        if reason:
            verdict.refuse("unreadable", base, reason)
            return
        checks: list[BlockCheck] = []
        owned = owned_write(model, base, accesses, variant, written, checks)
        if owned is not None:
            verdict.block_checks += checks
            verdict.owned.append(owned)
            verdict.facts.append(_owned_fact(model, owned, accesses))
            continue
        if _scatter_updates(accesses):
            verdict.scatters.append(Scatter(base, "+"))
            verdict.facts.append(f"{base}: iterations may update the same element "
                                 "(a scatter-add)")
            continue
        from ellora.tools.loops.legality.recurrence import running_value

        recurrence = running_value(model, base, accesses)
        if recurrence is not None and verdict.recurrence is None:
            verdict.recurrence = recurrence
            verdict.facts.append(f"{model.spell(base, [model.header.var])} is a running "
                                 f"{recurrence.operator} of the previous element (a scan)")
            continue
        verdict.dependence = _array_dependence(model, base, accesses)
        return


def _unreadable(model: LoopModel, base: str, accesses: list[Access]) -> str:
    for access in accesses:
        if access.whole and access.writes:
            return f"the loop writes all of {base} at once; iterations share it"
        if access.whole:
            return (f"the loop reads all of {base} (a range passed to a function) while "
                    f"writing {base}")
        if not access.readable:
            return (f"the loop {'writes' if access.writes else 'reads'} "
                    f"{model.spell(base, access.texts)}, a subscript the analysis cannot "
                    "read")
    return ""


def _scatter_updates(accesses: list[Access]) -> bool:
    return all(a.mode == "update" and a.operator in _SCATTER_OPERATORS and a.member is None
               and a.standalone
               for a in accesses)


def owned_write(model: LoopModel, base: str, accesses: list[Access], variant: set[str],
                written: set[str], checks: list | None = None) -> OwnedWrite | None:
    """The coordinate at which each iteration owns its writes of ``base``, or None. An
    access with fewer subscripts than the elements (``a[i].size()``, ``a[i].push_back(v)``
    on a nested container) is the whole sub-object: it counts at the dimensions it names
    and covers every value of the ones it does not."""
    var = model.header.var
    full = max(len(a.indices) for a in accesses)
    for dimension in range(full):
        if any(len(a.indices) <= dimension for a in accesses):
            break  # a sub-object spans this dimension and the ones after it
        for stride in [None, *_strides(model, accesses, dimension, var)]:
            coordinates = [_coordinates(model, a, dimension, stride) for a in accesses]
            if any(c is None for c in coordinates):
                continue
            for position in range(len(coordinates[0])):
                values = [c[position] for c in coordinates]
                found = _owned_at(model, accesses, values, var, variant, written)
                if found is not None:
                    offset, scale = found
                    across = _written_span(model, accesses, dimension, stride,
                                           1 - position) if stride is not None else None
                    return OwnedWrite(base, dimension, position, offset, stride, scale,
                                      across=across)
                block = _owned_block(model, accesses, values, var, variant, written)
                if block is not None and (block is True or checks is not None):
                    if block is not True:
                        checks.append(BlockCheck(base, model.header.step, *block))
                    return OwnedWrite(base, dimension, position, Poly(), stride, 1,
                                      block=model.header.step)
    return None


def _written_span(model: LoopModel, accesses: list[Access], dimension: int, stride: Poly,
                  coordinate: int) -> tuple[Poly, Poly] | None:
    """The first and last value the writes give ``coordinate`` of a split subscript (the
    columns of owned rows, the rows of owned columns), free of loop variables, so a gather
    moves the written span and nothing past it; None when it depends on the owning
    iteration (a triangular nest) or has no single bound."""
    var = model.header.var
    lows: list[Poly] = []
    highs: list[Poly] = []
    for access in accesses:
        if not access.writes:
            continue
        if any(h.lower.mentions(var) or h.upper.mentions(var) for h in access.loops):
            return None
        value = _coordinates(model, access, dimension, stride)[coordinate]
        if value.mentions(var):
            return None
        env = access_env(model, access)
        low, high = env.extremes(value, lowest=True), env.extremes(value, lowest=False)
        if not low or not high:
            return None
        lows += low
        highs += high
    env = model.env()
    first = _extreme_of(env, list(dict.fromkeys(lows)), lowest=True)
    last = _extreme_of(env, list(dict.fromkeys(highs)), lowest=False)
    return (first, last) if first is not None and last is not None else None


def _extreme_of(env: RangeEnv, candidates: list[Poly], lowest: bool) -> Poly | None:
    """The candidate provably at or below (``lowest``) or above every other one."""
    for candidate in candidates:
        if all(env.proves_nonnegative(other - candidate if lowest else candidate - other)
               for other in candidates):
            return candidate
    return None


def _owned_block(model: LoopModel, accesses: list[Access], values: list[Poly], var: str,
                 variant: set[str], written: set[str]):
    """A loop stepping by ``s`` whose every access is ``var + r`` with ``r`` in [0, s):
    iteration ``var`` owns the block [var, var + s) (butterflies of a radix-2 FFT). True
    when proved; (lows, highs) of the offsets when only a run-time test can tell; None."""
    step = model.header.step
    if model.header.unit_step or model.header.descending:
        return None
    if not invariant(step, model, set(), variant, written):
        return None
    lows, highs, proved = [], [], True
    for access, value in zip(accesses, values):
        try:
            coefficient, rest = value.split(var)
        except ValueError:
            return None
        if coefficient != ONE:
            return None
        inner = {h.var for h in access.loops}
        if not invariant(rest, model, inner, variant, written):
            return None
        env = access_env(model, access)
        if env.within(rest, Poly(), step - ONE):
            continue
        low, high = env.extremes(rest, lowest=True), env.extremes(rest, lowest=False)
        if low is None or high is None:
            return None
        if all(env._with_plain_facts(h - step) for h in high) or \
                all(env._with_plain_facts(-low_value - ONE) for low_value in low):
            return None  # the offsets always leave the block: no check could pass
        proved = False
        lows += low
        highs += high
    return True if proved else (tuple(dict.fromkeys(lows)), tuple(dict.fromkeys(highs)))


def _strides(model: LoopModel, accesses: list[Access], dimension: int, var: str) -> list[Poly]:
    """Row lengths to try: each product of symbols that multiplies another symbol in a
    written subscript (``n`` in ``i * n + j``)."""
    found: list[Poly] = []
    for access in accesses:
        if not access.writes:
            continue
        for monomial, coefficient in access.indices[dimension].terms.items():
            if len(monomial) == 1 and abs(coefficient) > 1:  # i * 4 + j: rows of 4
                stride = Poly.const(abs(coefficient))
                if stride not in found:
                    found.append(stride)
            if len(monomial) < 2:
                continue
            for position in range(len(monomial)):
                rest = monomial[:position] + monomial[position + 1:]
                stride = Poly({rest: 1})
                if stride not in found:
                    found.append(stride)
    return found


def _coordinates(model: LoopModel, access: Access, dimension: int, stride: Poly | None):
    index = access.indices[dimension]
    if stride is None:
        return [index]
    quotient_terms: dict = {}
    remainder_terms: dict = {}
    for monomial, coefficient in index.terms.items():
        term = Poly({monomial: coefficient})
        divided = term.divide_exactly(stride)
        if divided is not None:
            quotient_terms.update(divided.terms)
        else:
            remainder_terms[monomial] = coefficient
    quotient, remainder = Poly(quotient_terms), Poly(remainder_terms)
    env = access_env(model, access)
    if not env.within(remainder, Poly(), stride - ONE):
        return None
    return [quotient, remainder]


def _owned_at(model: LoopModel, accesses: list[Access], values: list[Poly], var: str,
              variant: set[str], written: set[str]):
    """(offset, scale) of the writes when the coordinate ``values`` (one per access) prove
    ownership by the iteration; None otherwise."""
    forms = []
    for access, value in zip(accesses, values):
        inner = {h.var for h in access.loops}
        if value is None:  # an access to all of the base (a whole read): nothing is owned
            return None
        try:
            coefficient, rest = value.split(var)
        except ValueError:
            return None
        scale = coefficient.const_value()
        if coefficient == Poly():
            if not invariant(value, model, {var, *inner}, variant, written):
                return None
            forms.append(("fixed", value))
        elif scale is not None and invariant(rest, model, set(), variant, written):
            forms.append(("own", rest, scale))
        else:
            return None
    writes = [(a, f) for a, f in zip(accesses, forms) if a.writes]
    if any(f[0] != "own" for _, f in writes):
        return None
    scales = {f[2] for _, f in writes}
    if len(scales) != 1:
        return None
    scale = scales.pop()
    header_env = model.env()
    for write, form in writes:
        own_values = Poly.symbol(var) * scale + form[1]
        for access, other in zip(accesses, forms):
            if other[0] == "own" and other[2] == scale and other[1] == form[1]:
                continue
            if other[0] == "own":
                theirs = Poly.symbol(var) * other[2] + other[1]
                if not _apart(own_values, header_env, theirs, header_env):
                    return None
                continue
            if not _apart(own_values, header_env, other[1], access_env(model, access)):
                return None
    offsets = {f[1] for _, f in writes}
    return (offsets.pop() if len(offsets) == 1 else writes[0][1][1]), scale


def _apart(first: Poly, first_env: RangeEnv, second: Poly, second_env: RangeEnv) -> bool:
    """The values ``first`` takes (in its env) never equal those ``second`` takes."""
    for low_env, high_env, low, high in ((second_env, first_env, second, first),
                                         (first_env, second_env, first, second)):
        highs = high_env.extremes(high, lowest=False)
        lows = low_env.extremes(low, lowest=True)
        if highs is None or lows is None:
            continue
        if all(low_env._with_plain_facts(a - b - ONE) or high_env._with_plain_facts(a - b - ONE)
               for b in highs for a in lows):
            return True
    return False


def _owned_fact(model: LoopModel, owned: OwnedWrite, accesses: list[Access]) -> str:
    var = model.header.var
    reads = [a for a in accesses if not a.writes]
    if owned.block is not None:
        what = (f"{owned.base}: iteration {var} touches only its own block [{var}, {var} + "
                f"{model.render(owned.block)})")
    elif owned.stride is None and len(accesses[0].indices) == 1:
        what = f"{model.spell(owned.base, [var + _offset_text(model, owned.offset)])}: " \
               "each iteration writes its own element"
    elif owned.stride is not None:
        part = "row" if owned.coordinate == 0 else "column"
        what = (f"{owned.base}: each iteration writes its own {part} "
                f"({part} {var}, rows of {model.render(owned.stride)} elements)")
    else:
        what = f"{owned.base}: each iteration writes its own slice [{var}] of dimension " \
               f"{owned.dimension + 1}"
    if reads and any(r.texts != accesses[0].texts for r in reads):
        what += "; its other elements read are never written by another iteration"
    return what


def _offset_text(model: LoopModel, offset: Poly) -> str:
    if offset == Poly():
        return ""
    rendered = model.render(offset)
    return f" - {rendered[1:]}" if rendered.startswith("-") else f" + {rendered}"


def _array_dependence(model: LoopModel, base: str, accesses: list[Access]):
    from ellora.tools.loops.legality.verdict import Dependence

    var = model.header.var
    writes = [a for a in accesses if a.writes]
    write = writes[0]
    spelled = model.spell(base, write.texts)
    if not any(i.mentions(var) for i in write.indices if i is not None) and \
            not _reads_loads_of(model, write):
        return Dependence("carried_array", base, (
            f"every iteration of {var} writes {spelled} (the subscript does not depend on "
            f"{var}): a loop-carried dependence"))
    others = [a for a in accesses if a.texts != write.texts]
    if not others:
        return Dependence("indirect_write", base, (
            f"indirect or non-injective write {spelled}: two iterations may write the same "
            "element (a race)"))
    other = others[0]
    return Dependence("carried_array", base, (
        f"loop-carried dependence on {base}: written at {spelled} and "
        f"{'written' if other.writes else 'read'} at {model.spell(base, other.texts)} in "
        "other iterations"))


def _reads_loads_of(model: LoopModel, access: Access) -> bool:
    atoms = model.function.atoms
    return any(atoms.get(s) is not None and atoms.get(s).kind == "load"
               for i in access.indices if i is not None for s in i.symbols())
