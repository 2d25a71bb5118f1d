"""Scalars declared outside the loop and written in it: reductions, private temporaries,
argmin/argmax and last-match indices, running values (scans); anything else carries a
value from one iteration to the next and refuses the loop."""

from __future__ import annotations

import re

from ellora.tools.loops.cpp.reader import comparison_parts, normalized, strip
from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.cxx_types import CType
from ellora.tools.loops.legality.verdict import Locate, Reducer, Scan, Verdict
from ellora.tools.loops.model import LoopModel, ScalarEvent

_COMPOUND = {"+=": "+", "-=": "+", "++": "+", "--": "+", "*=": "*", "&=": "&", "|=": "|",
             "^=": "^"}
_BINARY = {"+": "+", "-": "+", "*": "*", "&": "&", "|": "|", "^": "^", "&&": "&&",
           "||": "||"}
_EXTREMUM_CALLS = {"std::max": "max", "max": "max", "std::fmax": "max", "fmax": "max",
                   "std::min": "min", "min": "min", "std::fmin": "min", "fmin": "min"}


def classify_scalars(model: LoopModel, verdict: Verdict) -> None:
    written = {name: events for name, events in model.scalars.items()
               if any(e.mode != "read" for e in events)}
    taken = _locate(model, written, verdict)
    for name in sorted(written):
        if name in taken:
            continue
        events = sorted(written[name], key=lambda e: e.position)
        ctype = _type_of(model, name)
        operator = reduction_operator(name, events)
        if operator is not None:
            verdict.reducers.append(Reducer(name, operator, ctype))
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


def _type_of(model: LoopModel, name: str) -> CType:
    symbol = model.function.scope.lookup(name, model.node.start_byte)
    return symbol.ctype if symbol is not None else CType("unknown", "auto")


def reduction_operator(name: str, events: list[ScalarEvent]) -> str | None:
    """The reduction operator when every write is an update of one operator class and the
    only reads of ``name`` sit inside those updates (their value or guard)."""
    operators, allowed = set(), []
    for event in events:
        if event.mode == "read":
            continue
        if event.mode == "update":
            operator = _COMPOUND.get(event.operator)
            if operator is None:
                return None
            operators.add(operator)
            continue
        found = _assigned_reduction(name, event)
        if found is None:
            return None
        operator, region = found
        operators.add(operator)
        allowed.append(region)
    for event in events:
        if event.mode == "read" and not any(
                r.start_byte <= event.node.start_byte < r.end_byte for r in allowed):
            return None
    return operators.pop() if len(operators) == 1 else None


def _assigned_reduction(name: str, event: ScalarEvent):
    """(operator, region whose reads of ``name`` belong to the update) for ``s = s op e``,
    ``s = max(s, e)`` and ``if (e > s) s = e;``; None otherwise."""
    value = strip(event.value)
    if value is None:
        return None
    if value.type == "binary_expression":
        operator = text(value.child(1))
        left, right = value.child_by_field_name("left"), value.child_by_field_name("right")
        if operator in _BINARY:
            if _is_name(left, name) and not mentions(right, name):
                return _BINARY[operator], value
            if _is_name(right, name) and not mentions(left, name) and operator != "-":
                return _BINARY[operator], value
    if value.type == "call_expression":
        function = re.sub(r"<.*>$", "", normalized(value.child_by_field_name("function")))
        arguments = [a for a in value.child_by_field_name("arguments").named_children
                     if a.type != "comment"]
        if function in _EXTREMUM_CALLS and len(arguments) == 2:
            mine = [a for a in arguments if _is_name(a, name)]
            others = [a for a in arguments if not _is_name(a, name)]
            if len(mine) == 1 and len(others) == 1 and not mentions(others[0], name):
                return _EXTREMUM_CALLS[function], value
    guarded = guarded_extremum(name, event)
    if guarded is not None:
        return guarded
    return None


def guarded_extremum(name: str, event: ScalarEvent):
    """``if (... && e > s ...) s = e;`` (any conjuncts not reading s, no else): ('max',
    the if's condition); '<' gives 'min'."""
    value = strip(event.value)
    if value is None or mentions(value, name):
        return None
    guard = _guard_of(event.statement)
    if guard is None:
        return None
    condition = guard.child_by_field_name("condition")
    operator = None
    for comparison in conjuncts(condition):
        parts = comparison_parts(comparison)
        if parts is None:
            if mentions(comparison, name):
                return None
            continue
        left, relation, right = parts
        if not (mentions(left, name) or mentions(right, name)):
            continue
        if operator is not None or relation not in ("<", "<=", ">", ">="):
            return None
        if _is_name(right, name) and normalized(strip(left)) == normalized(value):
            operator = "max" if relation in (">", ">=") else "min"
        elif _is_name(left, name) and normalized(strip(right)) == normalized(value):
            operator = "max" if relation in ("<", "<=") else "min"
        else:
            return None
    return (operator, condition) if operator is not None else None


def _guard_of(statement):
    """The ``if`` (without else) whose consequence is exactly this statement."""
    parent = statement.parent if statement is not None else None
    if parent is not None and parent.type == "compound_statement":
        named = [c for c in parent.named_children if c.type != "comment"]
        if len(named) != 1:
            return None
        parent = parent.parent
    if parent is None or parent.type != "if_statement" or \
            parent.child_by_field_name("alternative") is not None:
        return None
    return parent


def conjuncts(node) -> list:
    node = strip(node)
    if node is None:
        return []
    if node.type == "condition_clause":
        named = [c for c in node.named_children if c.type != "comment"]
        return conjuncts(named[-1]) if named else []
    if node.type == "binary_expression" and text(node.child(1)) == "&&":
        return conjuncts(node.child_by_field_name("left")) + \
            conjuncts(node.child_by_field_name("right"))
    return [node]


def mentions(node, name: str) -> bool:
    return node is not None and any(n.type == "identifier" and text(n) == name
                                    for n in walk(node))


def _is_name(node, name: str) -> bool:
    node = strip(node)
    return node is not None and node.type == "identifier" and text(node) == name


def _assigned_first(name: str, events: list[ScalarEvent]) -> bool:
    first = events[0]
    return (first.mode == "write" and first.operator == "=" and first.top_level
            and not mentions(first.value, name))


def _live_after(model: LoopModel, name: str) -> bool:
    """Whether ``name`` is read after the loop, or anywhere in a loop around it (whose next
    iteration sees it)."""
    loop, function = model.node, model.function.definition
    outer, current = loop, loop.parent
    while current is not None and current != function:
        if current.type in ("for_statement", "for_range_loop", "while_statement",
                            "do_statement"):
            outer = current
        current = current.parent
    for node in walk(function):
        if node.type != "identifier" or text(node) != name:
            continue
        inside = loop.start_byte <= node.start_byte < loop.end_byte
        after = node.start_byte >= loop.end_byte
        in_outer = outer is not loop and outer.start_byte <= node.start_byte < outer.end_byte
        if not inside and (after or in_outer):
            return True
    return False


def _scan(model: LoopModel, name: str, events: list[ScalarEvent], ctype: CType):
    """One top-level update and every other read in other top-level statements on one side
    of it: an inclusive or exclusive running value."""
    writes = [e for e in events if e.mode != "read"]
    update_statement = writes[0].statement
    if update_statement is not None and update_statement.parent is not None and \
            update_statement.parent.type == "compound_statement" and \
            update_statement.parent.parent is not None and \
            update_statement.parent.parent.type == "if_statement":
        update_statement = update_statement.parent.parent  # if (x < m) { m = x; }
    if update_statement is None or update_statement.parent != model.body:
        return None
    if len(writes) != 1 or (writes[0].statement != update_statement and
                            update_statement.type != "if_statement"):
        return None
    operator = reduction_operator(name, [e for e in events if _within(e, update_statement)])
    if operator is None or operator not in ("+", "*", "max", "min"):
        return None
    statements = [c for c in model.body.named_children if c.type != "comment"]
    position = statements.index(update_statement)
    sides = set()
    for event in events:
        if _within(event, update_statement):
            continue
        holder = next((s for s in statements
                       if s.start_byte <= event.node.start_byte < s.end_byte), None)
        if holder is None or holder.type not in ("expression_statement", "if_statement"):
            return None
        sides.add("inclusive" if statements.index(holder) > position else "exclusive")
    if len(sides) != 1:
        return None
    return Scan(name, operator, sides.pop(), ctype, update_statement)


def _within(event: ScalarEvent, statement) -> bool:
    return statement.start_byte <= event.node.start_byte < statement.end_byte


def _locate(model: LoopModel, written: dict, verdict: Verdict) -> set[str]:
    """argmin/argmax (``if (k < best) { best = k; idx = i; }``, ``if (k(i) < k(idx)) idx =
    i;``) and last match (``if (c) idx = i;``): the names they explain."""
    var = model.header.var
    for statement in model.body.named_children if model.body is not None else []:
        if statement.type != "if_statement" or \
                statement.child_by_field_name("alternative") is not None:
            continue
        inside = {name: [e for e in events if _within(e, statement)]
                  for name, events in written.items()}
        names = [n for n, found in inside.items() if any(e.mode != "read" for e in found)]
        if not names or any(len(inside[n]) != len(written[n]) for n in names):
            continue
        writes = {n: [e for e in inside[n] if e.mode != "read"] for n in names}
        if any(len(w) != 1 or w[0].operator != "=" for w in writes.values()):
            continue
        index_names = [n for n in names if _index_value(writes[n][0].value, var)]
        if len(index_names) != 1:
            continue
        index = index_names[0]
        others = [n for n in names if n != index]
        condition = statement.child_by_field_name("condition")
        found = _locate_condition(condition, index, others, writes, var)
        if found is None:
            continue
        operator, key, strict = found
        best = others[0] if others else None
        verdict.locate = Locate(
            index=index, operator=operator, key=key, best=best,
            index_value=writes[index][0].value, condition=condition, strict=strict,
            statement=statement, index_type=_type_of(model, index),
            best_type=_type_of(model, best) if best else None)
        what = "the last iteration where the condition holds" if operator == "last_match" \
            else f"the {'first' if strict else 'last'} {var} with the {operator}imum key"
        verdict.facts.append(f"{index}: {what} (arg{operator if operator != 'last_match' else 'last'})")
        return {index, *others}
    return set()


def _index_value(value, var: str) -> bool:
    """The assigned value is the loop variable (possibly cast)."""
    value = strip(value)
    return value is not None and value.type == "identifier" and text(value) == var


def _locate_condition(condition, index, others, writes, var):
    parts = comparison_parts(conjuncts(condition)[-1]) if conjuncts(condition) else None
    reads_index = mentions(condition, index)
    if not others and not reads_index:
        if any(mentions(condition, n) for n in others):
            return None
        return "last_match", condition, True
    if parts is None or len(conjuncts(condition)) != 1:
        return None
    left, relation, right = parts
    if relation not in ("<", "<=", ">", ">="):
        return None
    smaller = relation in ("<", "<=")
    strict = relation in ("<", ">")
    if len(others) == 1:  # if (k < best) { best = k; idx = i; }
        best = others[0]
        value = normalized(strip(writes[best][0].value))
        if _is_name(right, best) and normalized(strip(left)) == value and \
                not mentions(left, index):
            return ("min" if smaller else "max"), left, strict
        if _is_name(left, best) and normalized(strip(right)) == value and \
                not mentions(right, index):
            return ("max" if smaller else "min"), right, strict
        return None
    if others:
        return None
    for mine, theirs, small in ((left, right, smaller), (right, left, not smaller)):
        key = normalized(mine)
        if mentions(mine, var) and not mentions(mine, index) and normalized(theirs) == \
                re.sub(rf"\b{re.escape(var)}\b", index, key):
            return ("min" if small else "max"), mine, strict
    return None
