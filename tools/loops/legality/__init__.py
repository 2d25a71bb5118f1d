"""Legality: one typed verdict per loop, computed once from its model.

The rules run in order (what the front end could not read, calls, exits, scalars, arrays,
aliasing, indices ``c.at(k)`` must keep in range); the first dependence found refuses the loop and is named. A parallel verdict
records every part an emitter needs: reducers, private and lastprivate scalars, owned
writes, scatters, a scan, a search, an argmin/argmax, a running value, run-time checks.
"""

from __future__ import annotations

from ellora.tools.loops.legality.aliasing import check_aliasing
from ellora.tools.loops.legality.arrays import check_arrays
from ellora.tools.loops.legality.control import check_calls, check_exits, check_front_end
from ellora.tools.loops.legality.extents import check_extents
from ellora.tools.loops.legality.pointer_rows import check_pointer_rows
from ellora.tools.loops.legality.scalars import classify_scalars
from ellora.tools.loops.legality.verdict import Dependence, Verdict
from ellora.tools.loops.model import LoopModel

__all__ = ["Dependence", "Verdict", "decide"]

_RULES = (check_front_end, check_calls, check_exits, classify_scalars, check_arrays,
          check_pointer_rows, check_aliasing, check_extents)


def decide(model: LoopModel) -> Verdict:
    """The verdict on one loop: parallel with its parts, or refused with the dependence."""
    verdict = Verdict(model)
    for rule in _RULES:
        rule(model, verdict)
        if not verdict.parallel:
            return verdict
    _combinations(model, verdict)
    if verdict.parallel:
        _schedule_hints(model, verdict)
    return verdict


def _combinations(model: LoopModel, verdict: Verdict) -> None:
    """Parts that each hold but cannot run together."""
    special = [p for p in ("search", "locate", "scan", "recurrence")
               if getattr(verdict, p) is not None]
    if len(special) > 1:
        verdict.refuse("carried_scalar", special[0], (
            f"the loop is both a {special[0]} and a {special[1]}; split it into two loops"))
        return
    if verdict.search is not None and (verdict.reducers or verdict.scatters):
        verdict.refuse("exit", "return", "the loop returns from inside and also accumulates; "
                                         "iterations are not independent")
        return
    if verdict.locate is not None and (
            verdict.reducers or verdict.scatters or verdict.lastprivates):
        verdict.refuse("carried_scalar", "", "the loop keeps an argmin/argmax and also "
                                             "accumulates; split it")
        return
    if verdict.recurrence is not None and (verdict.scatters or verdict.lastprivates):
        verdict.refuse("carried_scalar", "", "the loop keeps a running value and also "
                                             "scatters or keeps a last value; split it")
        return
    for owned in verdict.owned:
        base = model.bases.get(owned.base)
        if base is not None and base.ctype.kind == "bool_vector":
            if owned.stride is not None or owned.offset != owned.offset.const(0) or \
                    owned.scale != 1 or model.header.lower.const_value() != 0:
                verdict.refuse("storage", owned.base, (
                    f"{owned.base} is a std::vector<bool>: its elements share words, so "
                    "iterations may only write it in whole 64-bit blocks starting at 0"))
                return
            verdict.word_blocks = 64


def _schedule_hints(model: LoopModel, verdict: Verdict) -> None:
    var = model.header.var
    for inner in model.inner:
        bounds = inner.lower.symbols() | inner.upper.symbols()
        atoms = model.function.atoms
        if var in bounds:
            verdict.triangular = True
            if (var in inner.lower.symbols()) != (var in inner.upper.symbols()):
                verdict.uneven = True
        if any(atoms.get(s) is not None and atoms.get(s).kind == "load" for s in bounds):
            verdict.irregular = True
    if verdict.triangular:
        verdict.irregular = True
