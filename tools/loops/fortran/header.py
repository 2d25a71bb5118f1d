"""The one reader of Fortran loop headers: ``do i = a, b[, s]`` (any constant step sign)
and ``do concurrent (i = a:b[:s], j = c:d[, mask])``. ``do while`` and ``do`` without
control are not counted loops."""

from __future__ import annotations

from dataclasses import dataclass, field

from ellora.tools.loops.cpp.header import NotCounted
from ellora.tools.loops.expr import ONE, Poly
from ellora.tools.loops.fortran.reader import ExpressionReader
from ellora.tools.loops.fortran.syntax import do_statement, loop_kind, lower, named, spelled
from ellora.tools.loops.model import LoopHeader


@dataclass
class DoControl:
    """One index of a ``do`` or ``do concurrent``: its variable and the start, end and step
    expression nodes as written (step None when omitted)."""

    var: str
    start: object = field(repr=False)
    end: object = field(repr=False)
    step: object = field(default=None, repr=False)


@dataclass
class DoHeader:
    """What a ``do`` statement says: its controls (several for ``do concurrent``), the
    concurrent mask, whether it was written ``do concurrent``."""

    controls: list[DoControl]
    mask: object = field(default=None, repr=False)
    concurrent: bool = False


def do_header(loop) -> DoHeader:
    """The controls of a counted ``do``; NotCounted for ``do while`` and a bare ``do``."""
    kind = loop_kind(loop)
    if kind in ("do while", "unbounded do"):
        raise NotCounted(f"a {kind} loop runs until a condition holds, not a counted number "
                         "of times")
    statement = do_statement(loop)
    if kind == "do concurrent":
        concurrent = next(c for c in statement.named_children
                          if c.type == "concurrent_statement")
        header = next(c for c in concurrent.named_children if c.type == "concurrent_header")
        controls, mask = [], None
        for part in named(header):
            if part.type == "concurrent_control":
                var = next(c for c in part.named_children if c.type == "identifier")
                controls.append(DoControl(lower(var), part.child_by_field_name("initial"),
                                          part.child_by_field_name("final"),
                                          part.child_by_field_name("step")))
            elif part.type == "concurrent_mask":
                mask = named(part)[0] if named(part) else None
        if not controls:
            raise NotCounted("the do concurrent header names no index")
        return DoHeader(controls, mask, True)
    control = next(c for c in statement.named_children if c.type == "loop_control_expression")
    parts = named(control)
    if len(parts) < 3 or parts[0].type != "identifier":
        raise NotCounted("the do statement needs a variable, a start and an end")
    return DoHeader([DoControl(lower(parts[0]), parts[1], parts[2],
                               parts[3] if len(parts) > 3 else None)])


def read_control(control: DoControl, reader: ExpressionReader, lookup, line: int,
                 node) -> LoopHeader:
    """The :class:`LoopHeader` of one index: ascending ``[start, end + 1)``, or descending
    (a negative constant step) over ``[end, start + 1)`` visited from the top."""
    symbol = lookup(control.var)
    if symbol is not None and symbol.ftype.base != "integer":
        raise NotCounted(f"the loop variable {control.var} is not an integer")
    var_type = symbol.ctype if symbol is not None else None
    start, end = reader.read(control.start), reader.read(control.end)
    if start.mentions(control.var) or end.mentions(control.var):
        raise NotCounted(f"the bounds of {control.var} depend on {control.var}")
    step, step_text, descending = ONE, "1", False
    if control.step is not None:
        step = reader.read(control.step)
        value = step.const_value()
        if value is None:
            raise NotCounted(f"{control.var} steps by {spelled(control.step)}, which is not a "
                             "constant: the loop's direction is only known as it runs")
        if value == 0:
            raise NotCounted(f"{control.var} steps by 0")
        descending = value < 0
        step = Poly.const(abs(value))
        step_text = str(abs(value))
    start_text, end_text = spelled(control.start), spelled(control.end)
    if descending:
        return LoopHeader(control.var, var_type, False, end, start + ONE, step, end_text,
                          f"({start_text}) + 1", step_text, True, line=line, node=node)
    return LoopHeader(control.var, var_type, False, start, end + ONE, step, start_text,
                      f"({end_text}) + 1", step_text, False, line=line, node=node)
