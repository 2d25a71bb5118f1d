"""Control flow and calls: what the front end could not read, exits from the loop (a
first-match search, or a dependence), and calls whose effects are unknown or that change a
shared object."""

from __future__ import annotations

from ellora.tools.loops.legality.verdict import Search, Verdict
from ellora.tools.loops.model import LoopModel


def check_front_end(model: LoopModel, verdict: Verdict) -> None:
    if model.obstacles:
        verdict.refuse("unreadable", "", model.obstacles[0])


def check_calls(model: LoopModel, verdict: Verdict) -> None:
    for call in model.calls:
        effect = call.effect
        if effect.safe:
            continue
        if effect.kind == "writes_arguments":
            continue  # its writes are accesses like any other
        if effect.kind == "mutates":
            if call.private_object:
                continue  # a work list or buffer of the iteration's own
            owner = effect.objects[0] if effect.objects else "?"
            verdict.refuse("container", owner, (
                f"the loop changes {owner} with {owner}.{effect.name}(), an object every "
                "iteration shares (a loop-carried dependence)"))
            return
        if call.private_object:
            continue
        verdict.refuse("call", effect.name, (
            f"the loop calls {effect.name}(), whose side effects are unknown; inline it or "
            "make sure it only reads its arguments"))
        return


def check_exits(model: LoopModel, verdict: Verdict) -> None:
    """Exits that leave the loop: ``if (c) return r;`` in a loop that writes nothing shared
    is a first-match search; any other exit stops parallel execution."""
    leaving = [e for e in model.exits if e.leaves_loop]
    if not leaving:
        return
    search = _first_match(model, leaving)
    if search is not None:
        verdict.search = search
        verdict.facts.append(f"returns at the first {model.header.var} where the condition "
                             "holds: a min-index search")
        return
    exit_ = leaving[0]
    if exit_.kind == "break":
        verdict.refuse("exit", "break", "the loop body breaks out of the loop; iterations "
                                        "are not independent")
    else:
        verdict.refuse("exit", exit_.kind, (
            f"the loop body leaves the loop ({exit_.kind}), so iterations are not "
            "independent"))


def _first_match(model: LoopModel, leaving) -> Search | None:
    """``if (c) return r;`` as a statement of the body, which otherwise only declares
    locals, in a loop that writes nothing shared."""
    if len(leaving) != 1 or leaving[0].kind != "return" or model.header.descending:
        return None
    exit_ = leaving[0]
    if any(a.writes for a in model.accesses) or any(
            e.mode != "read" for events in model.scalars.values() for e in events):
        return None
    guard = exit_.guard
    if not model.header.unit_step or exit_.term is None or guard is None or \
            not guard.top_level or not guard.sole or guard.has_else:
        return None
    if any(kind != "declaration" for index, kind in enumerate(model.top_statements)
           if index != exit_.top_index):
        return None
    return Search(guard.condition.node, exit_.term.node, guard.node)
