"""Elements reached through ``c.at(k)``: the serial loop throws ``std::out_of_range`` at the
first index past the end, and an exception cannot leave a parallel region (OpenMP and
Kokkos end the program; MPI ranks would disagree). Where the loop's ranges prove every
index in [0, c.size()), nothing is needed; otherwise the parallel loop runs behind a test
of the touched range, and the original loop (which throws as before) runs when it fails.
"""

from __future__ import annotations

from ellora.tools.loops.expr import ONE, Poly
from ellora.tools.loops.legality.arrays import access_env
from ellora.tools.loops.legality.verdict import ExtentCheck, Verdict
from ellora.tools.loops.model import LoopModel


def check_extents(model: LoopModel, verdict: Verdict) -> None:
    checked = [a for a in model.accesses if a.checked]
    for base in dict.fromkeys(a.base for a in checked):
        accesses = [a for a in checked if a.base == base]
        if any(a.indices[0] is None for a in accesses):
            verdict.refuse("exit", base, (
                f"{base}.at() is called with an index the analysis cannot read: it throws "
                "past the end, and an exception cannot leave a parallel loop"))
            return
        size = model.function.atoms.add(f"{base}.size()", f"{base}.size()", "size",
                                        base=base, nonnegative=True)
        if all(access_env(model, a).within(a.indices[0], Poly(), size - ONE)
               for a in accesses):
            verdict.facts.append(f"every {base}.at() index is below {base}.size()")
            continue
        verdict.extent_checks.append(ExtentCheck(base))
        verdict.facts.append(f"{base}.at() throws past the end: the parallel loop runs "
                             f"only when every index is below {base}.size() (checked "
                             "before the loop)")
