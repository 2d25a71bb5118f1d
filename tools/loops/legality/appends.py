"""Appends to a list the loop builds: ``out.push_back(v)`` (or ``emplace_back``) on a
``std::vector`` declared outside the loop, in any branch and any inner loop of the body.

The serial loop leaves ``out`` holding its elements before the loop followed by the
appended values in iteration order. Iterations dealt out in contiguous blocks, each
appending to a list of its own, give the same sequence when the lists are joined in block
order; that holds whatever the appends' conditions and counts, so a filter (``if (p(x[i]))
out.push_back(x[i])``) is one too. It needs ``out`` touched by nothing else in the loop (no
read, no size, no other member) and not shared with another container the loop uses (the
same object passed twice is tested before the loop).
"""

from __future__ import annotations

from ellora.tools.loops.legality.verdict import Append, ObjectCheck, Verdict
from ellora.tools.loops.model import LoopModel

APPENDERS = ("push_back", "emplace_back")


def appended_lists(model: LoopModel, verdict: Verdict, calls: list) -> None:
    """``calls``: the loop's mutating member calls on outer objects, all of them appends.
    Records each list as an :class:`Append` or refuses the loop with the reason."""
    lists = list(dict.fromkeys(call.effect.objects[0] for call in calls))
    for name in lists:
        why = _why_not(model, name, [c for c in calls if c.effect.objects[0] == name])
        if why:
            verdict.refuse("container", name, why)
            return
        symbol = model.function.scope.lookup(name, model.node.start_byte)
        ctype = symbol.ctype
        verdict.appends.append(Append(name, ctype))
        for base in model.bases.values():
            if base.ctype.kind == ctype.kind and base.ctype.name == ctype.name and \
                    not base.distinct and symbol.where != "local":
                verdict.object_checks.append(ObjectCheck(name, base.name))
        verdict.facts.append(
            f"{name}: appended in iteration order (each block of iterations appends to a "
            f"list of its own; the lists are joined in block order)")


def _why_not(model: LoopModel, name: str, calls: list) -> str:
    symbol = model.function.scope.lookup(name, model.node.start_byte)
    ctype = symbol.ctype if symbol is not None else None
    if ctype is None or ctype.kind != "vector" or ctype.const:
        return (f"the loop changes {name} with {name}.{calls[0].effect.name}(), an object "
                "every iteration shares (a loop-carried dependence)")
    named = [n for n in _identifiers(model.body) if n.text.decode() == name]
    owners = set()
    for call in calls:
        owner = call.node.child_by_field_name("function").child_by_field_name("argument")
        owners.add((owner.start_byte, owner.end_byte))
    if any((n.start_byte, n.end_byte) not in owners for n in named):
        return (f"the loop appends to {name} and also uses it otherwise (a read, its size): "
                "what one iteration sees depends on the appends before it")
    return ""


def _identifiers(node):
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            yield current
        stack.extend(current.children)
