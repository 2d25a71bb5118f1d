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
    from ellora.tools.loops.legality.appends import APPENDERS, appended_lists

    appends = []
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
            if effect.name in APPENDERS and owner != "?" and "." not in owner:
                appends.append(call)
                continue
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
    if appends:
        appended_lists(model, verdict, appends)


def check_exits(model: LoopModel, verdict: Verdict) -> None:
    """Exits that leave the loop: ``if (c) return r;`` in a loop that writes nothing shared
    is a first-match search; any other exit stops parallel execution."""
    leaving = [e for e in model.exits if e.leaves_loop]
    if not leaving:
        return
    search = _first_match(model, leaving)
    if search is not None:
        verdict.search = search
        leaves = "returns" if leaving[0].kind == "return" else f"{leaving[0].kind}s"
        how = f"sets {', '.join(search.assigned)} and {leaves}" if search.assigned else leaves
        verdict.facts.append(f"{how} at the first {model.header.var} where the condition "
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
    """``if (c) return r;``, or ``if (c) { found = i; break; }`` (assignments to scalars, then
    the break), as a statement of the body, which otherwise only declares locals, in a loop
    that writes nothing else: only the first iteration where ``c`` holds does anything."""
    if len(leaving) != 1 or leaving[0].kind not in ("return", "break", "exit") or \
            not model.header.unit_step:
        return None
    exit_ = leaving[0]
    guard = exit_.guard
    if guard is None or not guard.top_level or guard.has_else or \
            (exit_.kind == "return" and (exit_.term is None or not guard.sole)):
        return None
    if any(a.writes for a in model.accesses):
        return None
    branch = _branch(guard.node)
    assigned = set()
    for name, events in model.scalars.items():
        if all(e.mode == "read" for e in events):
            continue
        if exit_.kind == "return" or any(e.mode == "update" or not _inside(branch, e.node)
                                         for e in events):
            return None  # updated, or used outside the branch that runs once
        assigned.add(name)
    if exit_.kind != "return" and not _ends_with(branch, exit_.node):
        return None
    if any(kind != "declaration" for index, kind in enumerate(model.top_statements)
           if index != exit_.top_index):
        return None
    result = exit_.term.node if exit_.term is not None else None
    return Search(guard.condition.node, result, guard.node, tuple(sorted(assigned)))


def _branch(statement):
    """The branch an ``if`` runs when its condition holds: C's consequence, or (Fortran's
    block ``if``, whose statements are its children) the ``if`` itself."""
    if statement is None:
        return None
    return statement.child_by_field_name("consequence") or statement


def _inside(branch, node) -> bool:
    return branch is not None and node is not None and \
        branch.start_byte <= node.start_byte < branch.end_byte


def _ends_with(branch, node) -> bool:
    """``node`` is the last statement of ``branch`` (through braces)."""
    while branch is not None and branch.type in ("compound_statement", "if_statement"):
        inner = [c for c in branch.named_children
                 if c.type not in ("comment", "end_if_statement")]
        if not inner or inner[-1] == branch:
            return False
        branch = inner[-1]
    return branch is not None and node is not None and branch.start_byte == node.start_byte
