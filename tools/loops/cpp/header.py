"""The one reader of C/C++ loop headers: ``for (init; test; step)`` and range-based ``for``."""

from __future__ import annotations

from dataclasses import replace

from ellora.tools.loops.cpp.reader import ExpressionReader, comparison_parts, normalized, strip
from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.cxx_types import CType, declared_type, parse_type_text
from ellora.tools.loops.expr import ONE, Poly
from ellora.tools.loops.model import LoopHeader

SIZE_TYPE = CType("scalar", "std::size_t")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "!=": "!="}


class NotCounted(ValueError):
    """The loop is not a counted loop; the message says what it lacks."""


def read_header(loop, reader: ExpressionReader, lookup_type) -> LoopHeader:
    """The header of a ``for_statement`` or ``for_range_loop``; NotCounted otherwise.
    ``lookup_type(name, node)`` gives the declared type of a name used in the header."""
    if loop.type == "for_range_loop":
        return _range_header(loop, reader, lookup_type)
    if loop.type != "for_statement":
        raise NotCounted(f"a {loop.type.replace('_', ' ')} is not a counted for loop")
    var, var_type, declares, start = _initializer(loop, reader, lookup_type)
    condition = loop.child_by_field_name("condition")
    update = loop.child_by_field_name("update")
    if condition is None or update is None:
        raise NotCounted("it needs a condition and an update")
    step, descending = _step(update, var, reader)
    parts = comparison_parts(condition)
    if parts is None:
        raise NotCounted(f"the condition must compare {var} with a bound")
    left, operator, right = parts
    offset = Poly()
    if normalized(strip(left)) != var:
        if normalized(strip(right)) == var:
            left, right, operator = right, left, _FLIP[operator]
        else:
            shifted = reader.read(left) - Poly.symbol(var)
            if shifted.mentions(var) or reader.read(left).degree(var) != 1 or \
                    shifted.const_value() is None or descending:
                raise NotCounted(f"the condition must compare {var} with a bound")
            offset = shifted
    bound = reader.read(right)
    bound_text = " ".join(text(right).split())
    if bound.mentions(var):
        raise NotCounted(f"the bound of {var} depends on {var}")
    line = loop.start_point[0] + 1
    if not descending:
        if operator not in ("<", "<=", "!="):
            raise NotCounted(f"{var} counts up, but the condition uses {operator!r}")
        if operator == "!=" and step != ONE:
            raise NotCounted(f"{var} != bound with a step other than 1 may jump over the bound")
        upper = bound - offset + (ONE if operator == "<=" else Poly())
        upper_text = _upper_text(bound_text, operator, offset, var_type)
        canonical = None
        if offset != Poly() or operator == "!=":
            canonical = f"{var} < {upper_text}"
        return LoopHeader(var, var_type, declares, start, upper, step,
                          " ".join(text(_init_value(loop)).split()), upper_text,
                          _step_text(update, var), False, line=line, node=loop,
                          canonical_test=canonical)
    if operator not in (">", ">="):
        raise NotCounted(f"{var} counts down, but the condition uses {operator!r}")
    if var_type is not None and var_type.is_unsigned and operator == ">=" and \
            bound.const_value() == 0:
        raise NotCounted(f"{var} is unsigned and counts down to >= 0: it never ends")
    lower = bound + (ONE if operator == ">" else Poly())
    lower_text = f"({bound_text}) + 1" if operator == ">" else bound_text
    start_text = " ".join(text(_init_value(loop)).split())
    return LoopHeader(var, var_type, declares, lower, start + ONE, step, lower_text,
                      f"({start_text}) + 1", _step_text(update, var), True, line=line,
                      node=loop)


def _init_value(loop):
    init = loop.child_by_field_name("initializer")
    if init.type == "declaration":
        declarator = next(c for c in init.children if c.type == "init_declarator")
        return declarator.child_by_field_name("value")
    return init.child_by_field_name("right")


def _initializer(loop, reader, lookup_type):
    init = loop.child_by_field_name("initializer")
    if init is None:
        raise NotCounted("it needs an initializer that sets the loop variable")
    if init.type == "declaration":
        declarators = [c for c in init.children if c.type == "init_declarator"]
        if len(declarators) != 1:
            raise NotCounted("declare exactly one loop variable")
        name, ctype = declared_type(init, declarators[0])
        value = declarators[0].child_by_field_name("value")
        if name is None or value is None:
            raise NotCounted("the loop variable needs a start value")
        if ctype.kind == "auto":
            ctype = replace(ctype, kind="scalar", name="long long")
        if not ctype.is_integer:
            raise NotCounted(f"the loop variable {name} is not an integer")
        return name, ctype, True, reader.read(value)
    if init.type == "assignment_expression" and text(init.child(1)) == "=":
        target = strip(init.child_by_field_name("left"))
        if target is None or target.type != "identifier":
            raise NotCounted("the initializer must set the loop variable")
        name = text(target)
        ctype = lookup_type(name, init)
        if ctype is not None and not ctype.is_integer:
            raise NotCounted(f"the loop variable {name} is not an integer")
        return name, ctype, False, reader.read(init.child_by_field_name("right"))
    raise NotCounted("the initializer must set one loop variable")


def _step(update, var: str, reader) -> tuple[Poly, bool]:
    spelled = normalized(update)
    if spelled in (f"++{var}", f"{var}++", f"{var}+=1", f"{var}={var}+1", f"{var}=1+{var}"):
        return ONE, False
    if spelled in (f"--{var}", f"{var}--", f"{var}-=1", f"{var}={var}-1"):
        return ONE, True
    if update.type == "assignment_expression" and normalized(update.child_by_field_name(
            "left")) == var:
        operator = text(update.child(1))
        right = update.child_by_field_name("right")
        amount = None
        if operator in ("+=", "-="):
            amount = reader.read(right)
        elif operator == "=":
            total = reader.read(right)
            if total.degree(var) == 1 and total.split(var)[0] == ONE:
                amount = total - Poly.symbol(var)
                operator = "+="
        if amount is not None and not amount.mentions(var):
            if amount.const_value() is not None and amount.const_value() < 0:
                amount, operator = -amount, "-=" if operator == "+=" else "+="
            if amount.const_value() is not None and amount.const_value() <= 0:
                raise NotCounted(f"{var} does not move")
            return amount, operator == "-="
    raise NotCounted(f"{var} must step by a loop-invariant amount (++{var}, {var} += s)")


def _step_text(update, var: str) -> str:
    spelled = normalized(update)
    if spelled in (f"++{var}", f"{var}++", f"--{var}", f"{var}--", f"{var}+=1", f"{var}-=1",
                   f"{var}={var}+1", f"{var}={var}-1", f"{var}=1+{var}"):
        return "1"
    right = update.child_by_field_name("right")
    if right is None:
        return "1"
    if text(update.child(1)) in ("+=", "-="):
        return " ".join(text(right).split())
    expression = " ".join(text(right).split())
    return f"({expression}) - {var}"


def _upper_text(bound: str, operator: str, offset: Poly, var_type: CType | None) -> str:
    if operator == "<=":
        bound = f"({bound}) + 1"
    amount = offset.const_value() or 0
    if amount == 0:
        return bound
    if var_type is not None and var_type.is_unsigned:  # n - c would wrap for n < c
        return f"(({bound}) > {amount} ? ({bound}) - {amount} : 0)"
    return f"({bound}) - {amount}"


def _range_header(loop, reader, lookup_type) -> LoopHeader:
    declarator = loop.child_by_field_name("declarator")
    right = strip(loop.child_by_field_name("right"))
    element, element_type = declared_type(loop, declarator)
    if element is None or right is None:
        raise NotCounted("a range-based for needs one element variable")
    container = normalized(right)
    if right.type not in ("identifier", "field_expression"):
        raise NotCounted(f"the range {container} is not a named container")
    owner = lookup_type(container, loop) if right.type == "identifier" else None
    if owner is not None and not owner.indexable:
        raise NotCounted(f"{container} is not a random-access container")
    reference = declarator is not None and any(
        n.type == "reference_declarator" for n in walk(declarator))
    var = f"ellora_{element}_index"
    is_c_array = owner is not None and owner.kind == "array"
    size_text = f"std::size({container})" if is_c_array else f"{container}.size()"
    size = reader.atoms.add(size_text.replace(" ", ""), size_text, "size", base=container,
                            nonnegative=True, names=frozenset([container.split(".")[0]]))
    if element_type.kind == "auto" and owner is not None and owner.element is not None:
        element_type = replace(owner.element, const=element_type.const,
                               reference=element_type.reference)
    return LoopHeader(var, SIZE_TYPE, True, Poly(), size, ONE, "0", size_text, "1", False,
                      range_of=container, element=element, element_reference=reference,
                      element_type=element_type, line=loop.start_point[0] + 1, node=loop)


def type_of_text(spelling: str) -> CType:
    return parse_type_text(spelling)
