"""Scalars declared outside the loop and written in it: reductions, private temporaries,
argmin/argmax and last-match indices, running values (scans); anything else carries a
value from one iteration to the next and refuses the loop.

The shapes are read from the model's terms and guards (tools/loops/terms.py), which every
front end builds, so the rules are the same for C, C++ and Fortran.
"""

from __future__ import annotations

import re

from ellora.tools.loops.cxx_types import CType
from ellora.tools.loops.legality.verdict import Locate, Reducer, Scan, Verdict
from ellora.tools.loops.model import LoopModel, ScalarEvent
from ellora.tools.loops.terms import Term

_COMPOUND = {"+=": "+", "-=": "+", "++": "+", "--": "+", "*=": "*", "&=": "&", "|=": "|",
             "^=": "^"}
_BINARY = {"+": "+", "-": "+", "*": "*", "&": "&", "|": "|", "^": "^", "&&": "&&",
           "||": "||"}
EXTREMUM_CALLS = {"std::max": "max", "max": "max", "std::fmax": "max", "fmax": "max",
                  "std::min": "min", "min": "min", "std::fmin": "min", "fmin": "min"}


def classify_scalars(model: LoopModel, verdict: Verdict) -> None:
    written = {name: events for name, events in model.scalars.items()
               if any(e.mode != "read" for e in events)}
    if verdict.search is not None:  # set once, by the first match only
        written = {n: e for n, e in written.items() if n not in verdict.search.assigned}
    taken = _locate(model, written, verdict)
    for name in sorted(written):
        if name in taken:
            continue
        events = sorted(written[name], key=lambda e: e.position)
        ctype = _type_of(model, name)
        operator = reduction_operator(name, events) or _flag(events, ctype)
        if operator is not None and ctype.kind == "struct":
            verdict.refuse("carried_scalar", name, (
                f"{name} is a struct whose members the loop accumulates ({name}.member "
                "op= ...): reductions combine whole numbers, not members; accumulate "
                "into local scalars and store them into the struct after the loop"))
            return
        if operator is not None:
            verdict.reducers.append(Reducer(name, operator, ctype, _update_text(model, events)))
            verdict.facts.append(f"{name}: {operator}-reduction")
            continue
        if _assigned_first(name, events):
            if _live_after(model, name):
                if not all(e.top_level for e in events if e.mode != "read"):
                    verdict.refuse("live_out", name, (
                        f"{name} is assigned in some iterations and read after the loop "
                        "(its last value depends on the order); keep it inside the loop"))
                    return
                verdict.lastprivates.append(name)
                verdict.facts.append(f"{name}: assigned first in every iteration, its last "
                                     "value kept after the loop (lastprivate)")
            else:
                verdict.privates.append(name)
                verdict.facts.append(f"{name}: assigned before use in every iteration, "
                                     "made private")
            continue
        scan = _scan(model, name, events, ctype)
        if scan is not None and verdict.scan is None:
            verdict.scan = scan
            verdict.facts.append(f"{name}: a running {scan.operator} read by each iteration "
                                 f"({scan.kind} scan)")
            continue
        operators = sorted({e.operator or "=" for e in events if e.mode != "read"})
        verdict.refuse("carried_scalar", name, (
            f"the scalar {name} carries a value from one iteration to the next (written with "
            f"{', '.join(operators)}); a loop-carried dependence"))
        return


def _update_text(model: LoopModel, events: list[ScalarEvent]) -> str:
    """The first statement that writes the scalar, as written on one line, with the ``if``
    right around it (``if (d > m) m = d;``): what shows which operator folds. Only the
    condition of that ``if`` is quoted, not the other statements of its branch."""
    event = next((e for e in events if e.mode != "read" and e.statement is not None), None)
    if event is None:
        return ""
    source = model.function.source.encode()

    def spelled(start: int, end: int) -> str:
        return " ".join(source[start:end].decode(errors="replace").replace("{", " ").split())

    statement = spelled(event.statement.start_byte, event.statement.end_byte)
    guard = event.guard
    if guard is None or guard.node is None or guard.in_else:
        return statement
    condition = guard.node.child_by_field_name("condition")
    if condition is not None:
        return f"if {spelled(condition.start_byte, condition.end_byte)} {statement}"
    return spelled(guard.node.start_byte, event.statement.end_byte) if guard.sole \
        else statement


def _type_of(model: LoopModel, name: str) -> CType:
    symbol = model.function.scope.lookup(name, model.node.start_byte)
    return symbol.ctype if symbol is not None else CType("unknown", "auto")


def reduction_operator(name: str, events: list[ScalarEvent]) -> str | None:
    """The reduction operator when every write is an update of one operator class and the
    only reads of ``name`` sit inside those updates (their value or guard)."""
    operators, regions = set(), []
    for event in events:
        if event.mode == "read":
            continue
        if event.mode == "update":
            operator = _COMPOUND.get(event.operator)
            if operator is None:
                return None
            operators.add(operator)
            continue
        found = assigned_reduction(name, event)
        if found is None:
            return None
        operator, region = found
        operators.add(operator)
        regions.append(region)
    for event in events:
        if event.mode == "read" and not any(r[0] <= event.position < r[1] for r in regions):
            return None
    return operators.pop() if len(operators) == 1 else None


_TRUTH = {"true": True, ".true.": True, "false": False, ".false.": False}


def _flag(events: list[ScalarEvent], ctype: CType) -> str | None:
    """A bool the loop only ever sets to one literal (``found = true;`` under a condition)
    and never reads: the result is that literal if any iteration set it, whatever the order,
    an ``||`` reduction (``&&`` for false)."""
    if ctype.kind != "bool" or any(e.mode != "write" or e.operator != "=" for e in events):
        return None
    values = {_TRUTH.get(e.term.key.lower()) if e.term is not None and e.term.kind == "const"
              else None for e in events}
    if len(values) != 1 or None in values:
        return None
    return "||" if values.pop() else "&&"


def assigned_reduction(name: str, event: ScalarEvent):
    """(operator, span whose reads of ``name`` belong to the update) for ``s = s op e``,
    ``s = max(s, e)`` and ``if (e > s) s = e;``; None otherwise."""
    value = event.term
    if value is None:
        return None
    if value.kind == "binary" and value.op in _BINARY:
        left, right = value.args
        if left.is_name(name) and not right.mentions(name):
            return _BINARY[value.op], value.span
        if right.is_name(name) and not left.mentions(name) and value.op != "-":
            return _BINARY[value.op], value.span
    if value.kind == "call" and value.op in EXTREMUM_CALLS and len(value.args) == 2:
        mine = [a for a in value.args if a.is_name(name)]
        others = [a for a in value.args if not a.is_name(name)]
        if len(mine) == 1 and len(others) == 1 and not others[0].mentions(name):
            return EXTREMUM_CALLS[value.op], value.span
    return guarded_extremum(name, event)


def guarded_extremum(name: str, event: ScalarEvent):
    """``if (... && e > s ...) s = e;`` (conjuncts not reading s, no else): ('max', the
    guard's span); ``<`` gives 'min'."""
    value, guard = event.term, event.guard
    if value is None or value.mentions(name) or guard is None or guard.has_else or \
            not guard.sole:
        return None
    operator = None
    for conjunct in guard.condition.conjuncts():
        parts = conjunct.comparison()
        if parts is None or not conjunct.mentions(name):
            if conjunct.mentions(name):
                return None
            continue
        left, relation, right = parts
        if operator is not None or relation not in ("<", "<=", ">", ">="):
            return None
        if right.is_name(name) and left.key == value.key:
            operator = "max" if relation in (">", ">=") else "min"
        elif left.is_name(name) and right.key == value.key:
            operator = "max" if relation in ("<", "<=") else "min"
        else:
            return None
    return (operator, guard.span) if operator is not None else None


def _assigned_first(name: str, events: list[ScalarEvent]) -> bool:
    first = events[0]
    return (first.mode == "write" and first.operator == "=" and first.top_level
            and (first.term is None or not first.term.mentions(name)))


def _live_after(model: LoopModel, name: str) -> bool:
    """Whether ``name`` is read after the loop, or anywhere in a loop around it (whose next
    iteration sees it): the front end lists the function's uses outside the loop."""
    return name in model.used_outside


def _scan(model: LoopModel, name: str, events: list[ScalarEvent], ctype: CType):
    """One update (a statement of the loop body, or the only statement of an ``if`` there)
    and every other read in other statements of the body on one side of it."""
    writes = [e for e in events if e.mode != "read"]
    if len(writes) != 1:
        return None
    write = writes[0]
    guarded = write.guard is not None and write.guard.top_level and write.guard.sole and \
        not write.guard.has_else
    if not (write.top_level or guarded) or write.top_index < 0:
        return None
    update_index = write.top_index
    region = write.guard.span if guarded else (write.position, write.position + 1)
    inside = [e for e in events if e.top_index == update_index]
    operator = reduction_operator(name, inside)
    if operator is None or operator not in ("+", "*", "max", "min"):
        return None
    sides = set()
    for event in events:
        if event.top_index == update_index:
            continue
        if event.top_index < 0 or model.top_statements[event.top_index] not in (
                "expression", "if"):
            return None
        sides.add("inclusive" if event.top_index > update_index else "exclusive")
    if len(sides) != 1:
        return None
    del region
    return Scan(name, operator, sides.pop(), ctype,
                write.guard.node if guarded else write.statement)


def _locate(model: LoopModel, written: dict, verdict: Verdict) -> set[str]:
    """argmin/argmax (``if (k < best) { best = k; idx = i; }``, ``if (k(i) < k(idx)) idx =
    i;``) and last match (``if (c) idx = i;``): the names they explain."""
    var = model.header.var
    guards = {}
    for events in written.values():
        for event in events:
            if event.mode != "read" and event.guard is not None and event.guard.top_level \
                    and not event.guard.has_else:
                guards[event.guard.span] = event.guard
    for span, guard in sorted(guards.items()):
        inside = {name: [e for e in events if guard.contains(e.position)]
                  for name, events in written.items()}
        names = [n for n, found in inside.items() if any(e.mode != "read" for e in found)]
        if not names or any(len(inside[n]) != len(written[n]) for n in names):
            continue
        writes = {n: [e for e in inside[n] if e.mode != "read"] for n in names}
        if any(len(w) != 1 or w[0].operator != "=" or w[0].guard is None or
               w[0].guard.span != span for w in writes.values()):
            continue
        index_names = [n for n in names if writes[n][0].term is not None
                       and writes[n][0].term.is_name(var)]
        if len(index_names) != 1:
            continue
        index = index_names[0]
        others = [n for n in names if n != index]
        found = _locate_condition(guard.condition, index, others, writes, var)
        if found is None:
            continue
        operator, key, strict = found
        best = others[0] if others else None
        verdict.locate = Locate(
            index=index, operator=operator, key=key.node, best=best,
            index_value=writes[index][0].value, condition=guard.condition.node, strict=strict,
            statement=guard.node, index_type=_type_of(model, index),
            best_type=_type_of(model, best) if best else None)
        what = "the last iteration where the condition holds" if operator == "last_match" \
            else f"the {'first' if strict else 'last'} {var} with the {operator}imum key"
        label = "last" if operator == "last_match" else operator
        verdict.facts.append(f"{index}: {what} (arg{label})")
        return {index, *others}
    return set()


def _locate_condition(condition: Term, index: str, others: list[str], writes: dict,
                      var: str):
    if not others and not condition.mentions(index):
        return "last_match", condition, True
    conjuncts = condition.conjuncts()
    parts = conjuncts[0].comparison() if len(conjuncts) == 1 else None
    if parts is None:
        return None
    left, relation, right = parts
    if relation not in ("<", "<=", ">", ">="):
        return None
    smaller = relation in ("<", "<=")
    strict = relation in ("<", ">")
    if len(others) == 1:  # if (k < best) { best = k; idx = i; }
        best = others[0]
        value = writes[best][0].term
        if value is None:
            return None
        if right.is_name(best) and left.key == value.key and not left.mentions(index):
            return ("min" if smaller else "max"), left, strict
        if left.is_name(best) and right.key == value.key and not right.mentions(index):
            return ("max" if smaller else "min"), right, strict
        return None
    if others:
        return None
    for mine, theirs, small in ((left, right, smaller), (right, left, not smaller)):
        if mine.mentions(var) and not mine.mentions(index) and theirs.key == \
                re.sub(rf"\b{re.escape(var)}\b", index, mine.key):
            return ("min" if small else "max"), mine, strict
    return None
