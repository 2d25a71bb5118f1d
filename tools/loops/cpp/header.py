"""The one reader of C/C++ loop headers: ``for (init; test; step)`` and range-based ``for``."""

from __future__ import annotations

import re
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
    iterator = _iterator_header(loop, reader, lookup_type)
    if iterator is not None:
        return iterator
    var, var_type, declares, start = _initializer(loop, reader, lookup_type)
    condition = loop.child_by_field_name("condition")
    update = loop.child_by_field_name("update")
    if condition is not None and update is None:
        stepping = _stepping_test(loop, condition, var, var_type, declares, start)
        if stepping is not None:
            return stepping
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
    if operator in ("<", "<=") and var_type is not None and var_type.is_unsigned and \
            step == ONE and declares:
        return _wrapping_header(loop, var, var_type, declares, start, operator, bound_text,
                                line)
    if operator not in (">", ">="):
        raise NotCounted(f"{var} counts down, but the condition uses {operator!r}")
    if var_type is not None and var_type.is_unsigned and operator == ">=" and \
            bound.const_value() == 0:
        raise NotCounted(f"{var} is unsigned and counts down to >= 0: it never ends")
    lower = bound + (ONE if operator == ">" else Poly())
    lower_text = f"({bound_text}) + 1" if operator == ">" else bound_text
    start_text = " ".join(text(_init_value(loop)).split())
    step_text = _step_text(update, var)
    if step != ONE:  # the set from the top ends at start - k * step: its lowest element
        lower_text = (f"(({start_text}) >= ({lower_text}) ? ({start_text}) - "
                      f"((({start_text}) - ({lower_text})) / ({step_text})) * ({step_text})"
                      f" : ({start_text}) + 1)")
    return LoopHeader(var, var_type, declares, lower, start + ONE, step, lower_text,
                      f"({start_text}) + 1", step_text, True, line=line, node=loop)


def _stepping_test(loop, condition, var: str, var_type: CType | None, declares: bool,
                   start: Poly) -> LoopHeader | None:
    """``for (size_t i = n; i-- > 0;)``: the test steps the variable, so the body sees start - 1
    down to 0 (for ``i-- != 0`` too, when ``i`` is unsigned). None when the test is not
    that."""
    parts = comparison_parts(condition)
    if parts is None:
        return None
    left, operator, right = parts
    if normalized(strip(right)) == f"{var}--":
        left, right, operator = right, left, _FLIP[operator]
    unsigned = var_type is not None and var_type.is_unsigned
    if normalized(strip(left)) != f"{var}--" or normalized(strip(right)) != "0" or \
            not (operator == ">" or (operator == "!=" and unsigned)) or not declares:
        return None  # (declared outside, the variable ends one below zero: kept serial)
    body = loop.child_by_field_name("body")
    if body is not None and var in _assigned_names_of(body):
        raise NotCounted(f"the body assigns the loop variable {var}")
    start_text = " ".join(text(_init_value(loop)).split())
    return LoopHeader(var, var_type, declares, Poly(), start, ONE, "0", start_text, "1", True,
                      line=loop.start_point[0] + 1, node=loop,
                      canonical_test=f"{var} < {start_text}", steps_in_test=True)


def _assigned_names_of(body) -> set[str]:
    names = set()
    for node in walk(body):
        target = node.child_by_field_name("left") if node.type == "assignment_expression" \
            else node.child_by_field_name("argument") if node.type == "update_expression" \
            else None
        if target is not None:
            names.add(normalized(strip(target)))
    return names


def _wrapping_header(loop, var: str, var_type: CType, declares: bool, start: Poly,
                     operator: str, bound_text: str, line: int) -> LoopHeader:
    """``for (size_t i = n - 1; i < n; --i)``: an unsigned variable counting down while
    below a bound ends when it wraps past zero: it visits start, ..., 1, 0 when the start
    passes the test, nothing otherwise. The original test is not OpenMP's canonical form:
    ``canonical_test`` says so (the loop is rewritten ascending over the same set)."""
    start_text = " ".join(text(_init_value(loop)).split())
    upper_text = f"(({start_text}) {operator} ({bound_text}) ? ({start_text}) + 1 : 0)"
    return LoopHeader(var, var_type, declares, Poly(), start + ONE, ONE, "0", upper_text, "1",
                      True, line=line, node=loop, canonical_test=f"{var} < {upper_text}")


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
    right = strip(loop.child_by_field_name("right"))
    container = normalized(right) if right is not None else ""
    if right is None or right.type not in ("identifier", "field_expression"):
        raise NotCounted(f"the range {container} is not a named container")
    owner = lookup_type(container, loop) if right.type == "identifier" else None
    if owner is not None and not owner.indexable:
        raise NotCounted(f"{container} is not a random-access container")
    is_c_array = owner is not None and owner.kind == "array"
    size_text = f"std::size({container})" if is_c_array else f"{container}.size()"
    return _over_container(loop, reader, container, owner, size_text,
                           frozenset([container.split(".")[0]]))


def element_range_header(loop, reader, spelled: str, owner: CType,
                         names: frozenset[str]) -> LoopHeader:
    """A range-based loop over one element of a nested container: ``for (auto& x : m[i])``,
    or over ``row`` where ``row`` refers to ``m[i]``; ``spelled`` is that element
    (``m[i]``), ``owner`` its type, ``names`` the variables its spelling uses."""
    if not owner.indexable:
        raise NotCounted(f"{spelled} is not a random-access container")
    size_text = f"std::size({spelled})" if owner.kind == "array" else f"{spelled}.size()"
    return _over_container(loop, reader, spelled, owner, size_text, names)


def _over_container(loop, reader, container: str, owner: CType | None, size_text: str,
                    names: frozenset[str]) -> LoopHeader:
    declarator = loop.child_by_field_name("declarator")
    element, element_type = declared_type(loop, declarator) if declarator is not None else \
        ("", CType("auto", "auto"))
    bindings = ()
    binding = next((n for n in walk(declarator) if n.type == "structured_binding_declarator"),
                   None) if declarator is not None and element is None else None
    if binding is not None:  # for (auto& [key, value] : pairs): names of the element's parts
        bindings = tuple(text(c) for c in binding.named_children if c.type == "identifier")
        element = bindings[0] if bindings else None
    if element is None:
        raise NotCounted("a range-based for needs one element variable")
    reference = declarator is not None and any(
        n.type == "reference_declarator" for n in walk(declarator))
    var = f"ellora_{element}_index"
    size = reader.atoms.add(size_text.replace(" ", ""), size_text, "size", base=container,
                            nonnegative=True, names=names)
    if element_type.kind == "auto" and owner is not None and owner.element is not None:
        element_type = replace(owner.element, const=element_type.const,
                               reference=element_type.reference)
    return LoopHeader(var, SIZE_TYPE, True, Poly(), size, ONE, "0", size_text, "1", False,
                      range_of=container, element=element, element_reference=reference,
                      element_type=element_type, line=loop.start_point[0] + 1, node=loop,
                      bindings=bindings)


_BEGIN = re.compile(r"^(?:(?P<member>[\w.]+)\.c?begin\(\)|std::c?begin\((?P<free>[\w.]+)\))$")
_END = re.compile(r"^(?:(?P<member>[\w.]+)\.c?end\(\)|std::c?end\((?P<free>[\w.]+)\))$")


def _iterator_header(loop, reader, lookup_type) -> LoopHeader | None:
    """``for (auto it = v.begin(); it != v.end(); ++it)`` over a random-access container: the
    iterations of a range-based loop, ``*it`` and ``it->m`` naming element ``v[k]``; None when
    the initializer does not declare an iterator from ``begin()``."""
    init = loop.child_by_field_name("initializer")
    if init is None or init.type != "declaration":
        return None
    declarators = [c for c in init.children if c.type == "init_declarator"]
    if len(declarators) != 1:
        return None
    name, ctype = declared_type(init, declarators[0])
    value = declarators[0].child_by_field_name("value")
    if name is None or value is None or ctype.is_integer:
        return None
    begin = _BEGIN.match(normalized(value))
    if begin is None:
        return None
    container = begin.group("member") or begin.group("free")
    parts = comparison_parts(loop.child_by_field_name("condition"))
    update = loop.child_by_field_name("update")
    if parts is None or update is None:
        raise NotCounted(f"the iterator {name} needs a test against {container}.end()")
    left, operator, right = parts
    if normalized(strip(left)) != name:
        left, right, operator = right, left, _FLIP[operator]
    end = _END.match(normalized(strip(right))) if normalized(strip(left)) == name else None
    if end is None or (end.group("member") or end.group("free")) != container or \
            operator not in ("!=", "<"):
        raise NotCounted(f"the iterator {name} must run until {container}.end()")
    if normalized(update) not in (f"++{name}", f"{name}++"):
        raise NotCounted(f"the iterator {name} must step with ++{name}")
    body = loop.child_by_field_name("body")
    if body is not None and _moves(body, name):
        raise NotCounted(f"the body moves the iterator {name}")
    owner = lookup_type(container, loop) if "." not in container else None
    if owner is not None and not owner.indexable:
        raise NotCounted(f"{container} is not a random-access container")
    if owner is not None and owner.kind == "bool_vector":
        raise NotCounted(f"the elements of {container} (a std::vector<bool>) have no address")
    header = _over_container(loop, reader, container, owner, f"{container}.size()",
                             frozenset([container.split(".")[0]]))
    return replace(header, var=f"ellora_{name}_index", element=None, element_reference=True,
                   iterator=name)


def _moves(body, name: str) -> bool:
    return name in _assigned_names_of(body)


def type_of_text(spelling: str) -> CType:
    return parse_type_text(spelling)
