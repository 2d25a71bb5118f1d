"""Row-wise (delinearized) dependence: accesses ``A[R*E + C]`` with every column C proved in
[0, E) name row R of an array with rows of E elements. A loop over ``var`` whose every write
is to row ``var`` (each iteration writes its own row) never meets another iteration's writes,
and a row R0 that the loop's range excludes (``var > R0``, ``var < R0``) is only read there,
so rows read outside the loop's range are read-only in the loop (LU, Gauss elimination).
The same ownership argument for a loop that steps by an invariant (``start += len``): an
iteration that touches only ``A[start + c]`` with every offset c in [0, len) owns the block
[start, start + len) (radix-2 FFT butterflies); the offsets are tested before the loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ellora.tools.cpp_syntax import (
    enclosing,
    loop_header,
    normalized,
    text,
    walk,
    write_target,
)
from ellora.tools.loop_analysis import (
    PURE_FUNCTIONS,
    Refused,
    _declared_inside,
    _declared_type,
)

if TYPE_CHECKING:
    from ellora.tools.loop_analysis import _Access

_NAME = re.compile(r"[A-Za-z_]\w*")
# names, literals, + - * and parentheses; no ++ or --
_SIMPLE_EXPRESSION = re.compile(r"(?!.*(?:\+\+|--))[\w+\-*()]+")
_UNSIGNED_TYPE = re.compile(r"size_t|unsigned|\buint\w*_t\b")
_SIGNED_TYPE = re.compile(
    r"(?:signed|short|int|long|longlong|longint|ssize_t|(?:std::)?(?:ptrdiff_t|int\d+_t))")


@dataclass
class _Range:
    """The header of a ``for`` loop around an access: ``variable`` from ``lower`` while
    ``variable < upper`` (upper is None for any other test); ``declared`` names its
    initializer declares when it is not canonical."""

    variable: str | None
    type_name: str
    lower: str
    upper: str | None
    node: object
    declared: frozenset = frozenset()


def row_wise(loop, array: str, accesses: list[_Access], var: str) -> str | None:
    """The fact proving that the loop over ``var`` writes ``array`` one row per iteration and
    reads only its own row or rows outside the range of ``var``; None when it cannot."""
    function = enclosing(loop, "function_definition")
    body = loop.child_by_field_name("body")
    if function is None or body is None or not _only_subscripted(body, array):
        return None
    own, condition = _range_of(loop), loop.child_by_field_name("condition")
    if own.variable != var or any(  # a test that changes names or reads the array: no proof
        n.type in ("assignment_expression", "update_expression", "call_expression")
        or (n.type == "identifier" and text(n) == array)
        for n in walk(condition)
    ):
        return None
    shapes = [_row_shapes(a.index) for a in accesses]
    first_write = next(i for i, a in enumerate(accesses) if a.is_write)
    for extent in dict.fromkeys(e for _, e, _ in shapes[first_write]):
        if not _invariant(extent, var, body, function):
            continue
        others = []
        for access, candidates in zip(accesses, shapes):
            row = _row_of(access, candidates, extent, var, own, body, function)
            if row is None:
                break
            if row != var:
                others.append(row)
        else:
            column = extent if _NAME.fullmatch(extent) or extent.isdigit() else f"({extent})"
            fact = (f"{array}[{var}*{column} + ...]: each iteration writes its own row {var} "
                    f"(columns stay in [0, {extent}))")
            if others:
                rows = ", ".join(dict.fromkeys(others))
                reasons = ", ".join(dict.fromkeys(_outside(r, own) for r in others))
                fact += f"; rows read at {rows} are never written ({reasons})"
            return fact
    return None


def _row_of(access, candidates, extent, var, own, body, function) -> str | None:
    """The row R of ``access`` as R*extent + C with C in [0, extent): ``var`` or a row that
    no iteration writes (only for reads); None when no reading of the index proves it."""
    ranges = _ranges_around(access.node, function)
    for row, candidate_extent, column in candidates:
        if candidate_extent != extent:
            continue
        if column == "0":  # R*E itself: E > 0 (a literal, or a loop around runs in [0, E))
            if not (extent.isdigit() and int(extent) > 0) and not any(
                r.variable and _in_extent(r.variable, extent, ranges, function) for r in ranges
            ):
                continue
        elif not _in_extent(column, extent, ranges, function):
            continue
        if row == var:
            return row
        if not access.is_write and _invariant(row, var, body, function) and _outside(row, own):
            return row
    return None


def _row_shapes(index: str) -> list[tuple[str, str, str]]:
    """Every reading (R, E, C) of a whitespace-free subscript as R*E + C (C is "0" when
    absent); empty when the subscript is not of that form."""
    index = _unparenthesized(index)
    if "][" in index:
        return []
    terms = _split_top(index, "+")
    if len(terms) == 1:
        terms.append("0")
    if len(terms) != 2:
        return []
    shapes = []
    for product, column in (terms, terms[::-1]):
        factors = _split_top(product, "*")
        if len(factors) != 2 or not (_NAME.fullmatch(column) or column == "0"):
            continue
        if not all(_NAME.fullmatch(f) or f.isdigit() or _unparenthesized(f) != f
                   for f in factors):
            continue
        first, second = (_unparenthesized(f) for f in factors)
        shapes += [(first, second, column), (second, first, column)]
    return shapes


def _split_top(expression: str, operator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for position, character in enumerate(expression):
        if character in "([":
            depth += 1
        elif character in ")]":
            depth -= 1
        elif character == operator and depth == 0:
            parts.append(expression[start:position])
            start = position + 1
    return parts + [expression[start:]]


def _unparenthesized(expression: str) -> str:
    """``expression`` without parentheses around all of it."""
    while expression.startswith("(") and expression.endswith(")"):
        depth = 0
        for position, character in enumerate(expression):
            depth += {"(": 1, ")": -1}.get(character, 0)
            if depth == 0 and position < len(expression) - 1:
                return expression
        expression = expression[1:-1]
    return expression


def _outside(row: str, own: _Range) -> str:
    """Why ``row`` is outside the range of the loop variable ("i > k"), or ""."""
    var, lower = own.variable, own.lower
    shifted = re.fullmatch(rf"(?:{re.escape(row)}\+(\d+)|(\d+)\+{re.escape(row)})", lower)
    if shifted and int(shifted.group(1) or shifted.group(2)) >= 1:
        return f"{var} > {row}"
    if row.isdigit() and lower.isdigit() and int(lower) > int(row):
        return f"{var} > {row}"
    if own.upper == row:
        return f"{var} < {row}"
    return ""


def _range_of(loop) -> _Range:
    try:
        variable, type_name, lower, condition, update = loop_header(loop)
    except ValueError:
        initializer = loop.child_by_field_name("initializer")
        names = frozenset(_NAME.findall(text(initializer))) if initializer else frozenset()
        return _Range(None, "", "", None, loop, names)
    upper = None
    if (
        condition.type == "binary_expression"
        and normalized(condition.child_by_field_name("left")) == variable
        and text(condition.child(1)) == "<"
        and normalized(update) in (f"++{variable}", f"{variable}++", f"{variable}+=1",
                                   f"{variable}={variable}+1")
    ):
        upper = _unparenthesized(normalized(condition.child_by_field_name("right")))
    return _Range(variable, "".join(type_name.split()), "".join(lower.split()), upper, loop,
                  frozenset({variable}))


def _ranges_around(node, function) -> list[_Range]:
    """The loops whose body holds ``node``, innermost first."""
    ranges, child, current = [], node, node.parent
    while current is not None and current != function:
        if current.type == "for_statement" and current.child_by_field_name("body") == child:
            ranges.append(_range_of(current))
        child, current = current, current.parent
    return ranges


def _in_extent(name: str, extent: str, ranges: list[_Range], function) -> bool:
    """Whether the loop variable ``name`` of a loop around the access stays in [0, extent)."""
    for position, current in enumerate(ranges):
        if current.variable != name:
            if name in current.declared:
                return False  # shadowed by a loop we cannot read
            continue
        body = current.node.child_by_field_name("body")
        if current.upper is None or not all(
            _fixed_in(n, body, function) for n in {name, *_NAME.findall(extent)}
        ):
            return False
        if current.upper != extent:
            # n - c wraps for unsigned n < c: only where the test is signed on both sides
            shorter = re.fullmatch(rf"\(?{re.escape(extent)}\)?-\d+", current.upper)
            try:
                extent_type = "".join(_declared_type(function, extent).split())
            except Refused:
                return False
            if not (shorter and _SIGNED_TYPE.fullmatch(current.type_name)
                    and _SIGNED_TYPE.fullmatch(extent_type)):
                return False
        return _non_negative(current, ranges[position + 1:], function)
    return False


def _non_negative(current: _Range, outer: list[_Range], function) -> bool:
    if _UNSIGNED_TYPE.search(current.type_name) or current.lower.isdigit():
        return True
    start = re.fullmatch(r"([A-Za-z_]\w*)(?:\+\d+)?|\d+\+([A-Za-z_]\w*)", current.lower)
    if not start:
        return False
    name = start.group(1) or start.group(2)
    for position, other in enumerate(outer):
        if other.variable != name:
            if name in other.declared:
                return False
            continue
        if not _fixed_in(name, other.node.child_by_field_name("body"), function):
            return False
        return _non_negative(other, outer[position + 1:], function)
    return False


def _invariant(expression: str, var: str, body, function) -> bool:
    """A side-effect-free expression no iteration of the loop (body) changes."""
    if not _SIMPLE_EXPRESSION.fullmatch(expression):
        return False
    names = set(_NAME.findall(expression))
    return var not in names and all(_fixed_in(n, body, function) for n in names)


def _fixed_in(name: str, body, function) -> bool:
    """Whether ``name`` keeps its value while ``body`` runs: not declared, assigned or
    address-taken there, and (when the body calls a function) a local that never escapes."""
    if body is None or name in _declared_inside(body):
        return False
    calls = False
    for node in walk(body):
        target = write_target(node)
        while target is not None and target.type == "parenthesized_expression":
            target = target.child(1)
        if target is not None and target.type == "identifier" and text(target) == name:
            return False
        if node.type == "pointer_expression" and normalized(node) == f"&{name}":
            return False
        if node.type == "call_expression":
            called = re.sub(r"<.*>$", "", normalized(node.child_by_field_name("function")))
            calls = calls or called not in PURE_FUNCTIONS
    return not calls or _private_local(name, function)


def _private_local(name: str, function) -> bool:
    """A non-static local or by-value parameter of ``function`` that no pointer, reference
    or lambda reaches, so no call can change it."""
    declared = False
    for node in walk(function):
        if node.type == "lambda_expression":
            return False
        if node.type == "pointer_expression" and normalized(node) == f"&{name}":
            return False
        if node.type == "init_declarator" and (
            node.child_by_field_name("declarator").type == "reference_declarator"
            and normalized(node.child_by_field_name("value")) == name
        ):
            return False
        if node.type in ("declaration", "parameter_declaration"):
            for child in node.children:
                inner = (child.child_by_field_name("declarator")
                         if child.type == "init_declarator" else child)
                if inner is not None and inner.type == "identifier" and text(inner) == name:
                    if "static" in (text(c) for c in node.children
                                    if c.type == "storage_class_specifier"):
                        return False
                    declared = True
    return declared


def _only_subscripted(body, array: str) -> bool:
    """``array`` is used in the loop only as ``array[...]``: no pointer arithmetic or alias."""
    for node in walk(body):
        if node.type == "identifier" and text(node) == array:
            parent = node.parent
            if parent is None or parent.type != "subscript_expression" or (
                parent.child_by_field_name("argument") != node
            ):
                return False
    return True


def check_strided_blocks(loop, by_array, written, var, facts,
                          variant: set[str]) -> None:
    """A loop ``i += s`` whose every access to a written array is ``A[i + c]``: iteration i
    owns [i, i + s) when every offset c stays in [0, s), which the run-time check tests
    before the loop (butterflies of a radix-2 FFT, blocked sweeps)."""
    from ellora.tools.overlap import NotCheckable, block_offsets

    if set(re.findall(r"[A-Za-z_]\w*", facts.step)) & variant:
        raise Refused(f"the step {facts.step} of {var} changes inside the loop")
    for array in written:
        indices = [a.index for a in by_array[array]]
        try:
            facts.block_offsets[array] = block_offsets(loop, var, indices)
        except NotCheckable as why:
            raise Refused(
                f"{var} steps by {facts.step}, but {array}[{indices[0]}] is not {var} plus an "
                f"offset that can be bounded ({why}): iterations may touch the same elements"
            ) from None
    facts.facts.append(
        f"{var} steps by {facts.step}: iteration {var} touches "
        + ", ".join(f"{a}[{var} + offset]" for a in written)
        + f"; parallel when every offset stays in [0, {facts.step}) (checked before the loop)"
    )
