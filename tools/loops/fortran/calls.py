"""Calls in a Fortran loop body as :class:`~ellora.tools.loops.calls.CallEffect` records:
intrinsics from the one table (:mod:`ellora.tools.loops.fortran.intrinsics`), procedures
of the file judged by :mod:`ellora.tools.loops.fortran.purity`, anything else unknown."""

from __future__ import annotations

from ellora.tools.loops.calls import CallEffect
from ellora.tools.loops.fortran.intrinsics import intrinsic_effect
from ellora.tools.loops.fortran.purity import procedure_effect


def classify_call(scope, name: str, subroutine: bool) -> CallEffect:
    """What a call of ``name`` does. ``inquiry`` (``size``, ``lbound``) reads no element of
    its first argument; ``writes_arguments`` lists the argument positions a subroutine of
    the file may write."""
    file = scope.file
    user = name in file.functions or name in file.interfaces
    effect = None if user else intrinsic_effect(name)
    if effect == "inquiry":
        return CallEffect("inquiry", name)
    if effect in ("pure", "reads"):
        return CallEffect("pure", name)
    if effect == "impure":
        return CallEffect("unknown", name)
    if not user:
        return CallEffect("unknown", name)
    judged = procedure_effect(file, name)
    if judged.kind != "pure":
        return CallEffect("unknown", name)
    if subroutine and judged.written:
        return CallEffect("writes_arguments", name, written=judged.written)
    return CallEffect("user_pure", name)
