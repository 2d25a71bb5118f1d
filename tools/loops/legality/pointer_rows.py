"""Rows reached through pointers: ``a[i][j]`` where ``a`` holds pointers (``double**``,
``double* a[]``, ``std::vector<double*>``). Row ``i`` is wherever ``a[i]`` points: two rows
may be one, overlap, or lie inside another array the loop touches (a row view built over a
flat buffer). Ownership by index (``a[i][j]`` written only by iteration ``i``) holds only
when the rows are apart, and a row may alias any array of its element type.

So the rows the loop touches, and every other array of that element type it touches, are
tested before the loop: sorted by address, no touched span of a written array may meet
another touched span. The parallel loop runs when the test holds, the original otherwise.
"""

from __future__ import annotations

from ellora.tools.loops.legality.arrays import access_env
from ellora.tools.loops.legality.verdict import RowsCheck, Verdict
from ellora.tools.loops.model import Base, LoopModel


def pointer_rows(base: Base) -> bool:
    """Whether subscripts of ``base`` go through a pointer to reach the elements."""
    element = base.ctype.element
    return element is not None and element.kind == "pointer"


def leaf(base: Base):
    """The type of the elements two subscripts reach (through a row pointer), else one."""
    return base.ctype.element.element if pointer_rows(base) else base.ctype.element


def check_pointer_rows(model: LoopModel, verdict: Verdict) -> None:
    from ellora.tools.loops.legality.aliasing import sharing

    rows = [b for b in model.bases.values() if pointer_rows(b) and any(
        len(a.indices) >= 2 for a in model.accesses_of(b.name))]
    written = set(model.written_bases())
    if not rows or not written:
        return
    involved: list[str] = []
    for base in rows:
        for access in model.accesses_of(base.name):
            if len(access.indices) != 2 or not access.readable:
                verdict.refuse("alias", base.name, (
                    f"{model.spell(base.name, access.texts)} reaches {base.name}'s rows "
                    "through pointers at another depth: the rows it touches cannot be "
                    "tested apart before the loop"))
                return
            env = access_env(model, access)
            if any(env.extremes(index, lowest) is None for index in access.indices
                   for lowest in (True, False)):
                verdict.refuse("alias", base.name, (
                    f"the rows and columns {model.spell(base.name, access.texts)} touches "
                    "have no bound: the rows cannot be tested apart before the loop"))
                return
        partners = [other.name for other in model.bases.values() if other.name != base.name
                    and sharing(base, other) is not None]
        if base.name not in written and not (written & set(partners)):
            continue  # read rows beside arrays that cannot share with them
        for name in [base.name, *partners]:
            if name not in involved:
                involved.append(name)
    if not involved:
        return
    for name in involved:
        if name in (b.name for b in rows):
            continue
        for access in model.accesses_of(name):
            env = access_env(model, access)
            if len(access.indices) != 1 or not access.readable or any(
                    env.extremes(access.indices[0], lowest) is None for lowest in (True, False)):
                verdict.refuse("alias", name, (
                    f"{name} may share storage with rows reached through pointers, and the "
                    f"range {model.spell(name, access.texts)} touches has no bound"))
                return
    verdict.row_checks.append(RowsCheck(tuple(involved)))
    verdict.facts.append(
        f"{', '.join(involved)}: rows reached through pointers may overlap each other or "
        "another array: parallel only when every span the loop writes is apart from every "
        "other span it touches (checked before the loop)")
