"""What the function's text says about its inputs beyond the loop models: the elements that
range-based loops name, locals defined once, local containers and their sizes, resizes,
size checks that throw, literals the inputs are compared with, divisions by inputs, sorts,
NaN tests, values a search tests for equality (and values used in arithmetic), and inputs
handed whole to code the harness cannot follow."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from ellora.tools.loops.cpp.reader import comparison_parts, normalized, strip
from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.cxx_types import CType, declared_type
from ellora.tools.synthesis.target import CannotSynthesize, Target

_NAN_TESTS = re.compile(r"\b(?:std::)?(?:isnan|isinf|isfinite|isnormal|fpclassify)\s*\(")
_SIZE_CHANGERS = {"push_back", "emplace_back", "pop_back", "insert", "erase", "resize", "clear",
                  "assign", "swap", "append", "push_front", "pop_front", "emplace",
                  "shrink_to_fit"}
_SORTS = {"std::sort", "sort", "std::partial_sort", "std::nth_element"}
_FINDS = {"std::find", "find"}
_ARITHMETIC = {"+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^"}
_LOOPS = {"for_statement", "for_range_loop", "while_statement", "do_statement"}
_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?[fFlL]?$")
_CHAR = re.compile(r"'(\\?.)'$")


@dataclass
class Alias:
    """A range-based loop's element: ``for (auto& e : x)`` names an element of ``path``."""

    path: str
    reference: bool


@dataclass
class Scan:
    """The syntactic facts of one function (see the module docstring)."""

    aliases: dict[str, Alias] = field(default_factory=dict)
    definitions: dict[str, object] = field(default_factory=dict)  # local -> initializer node
    assigned: set[str] = field(default_factory=set)
    local_extents: dict[str, object] = field(default_factory=dict)  # local -> size node / path
    local_unknown: set[str] = field(default_factory=set)  # locals whose size is not known
    resized: dict[str, object] = field(default_factory=dict)  # param container -> size node
    size_changed: set[str] = field(default_factory=set)  # other size changes of a param
    exact_sizes: dict[str, object] = field(default_factory=dict)  # container -> size node
    literals: set[float] = field(default_factory=set)
    divided_by: set[str] = field(default_factory=set)  # value paths and scalar params
    sort_targets: set[str] = field(default_factory=set)
    searched: set[str] = field(default_factory=set)  # tested for equality by a search
    arithmetic: set[str] = field(default_factory=set)  # operands of arithmetic
    tests_nan: bool = False
    fronts: list[tuple[str, str, int]] = field(default_factory=list)  # (path, member, line)
    ranges: list[tuple[str, object, int]] = field(default_factory=list)  # (path, length, line)


def scan_function(target: Target) -> Scan:
    """Every syntactic fact the domain needs, in one walk over the function body."""
    found = Scan()
    body = target.body
    params = {p.name for p in target.params}
    _read_aliases(target, body, found)
    counts: dict[str, int] = {}
    for node in walk(body):
        kind = node.type
        if kind == "declaration":
            _declaration(target, node, found, counts)
        elif kind in ("assignment_expression", "update_expression"):
            _assignment(node, found, target)
        elif kind == "call_expression":
            _call(target, node, found, params)
        elif kind == "binary_expression":
            _binary(target, node, found)
        elif kind == "if_statement":
            _size_check(target, node, found)
    for name, count in counts.items():
        if count > 1:
            found.definitions.pop(name, None)
    for name in found.assigned:
        found.definitions.pop(name, None)
    found.tests_nan = bool(_NAN_TESTS.search(text(body))) or _self_compare(body)
    return found


def _read_aliases(target: Target, body, found: Scan) -> None:
    for node in walk(body):
        if node.type != "for_range_loop":
            continue
        declarator = node.child_by_field_name("declarator")
        name, ctype = declared_type(node, declarator)
        right = strip(node.child_by_field_name("right"))
        if name is None or right is None:
            continue
        path = value_path(target, right, found)
        if path is not None:
            found.aliases[name] = Alias(path, ctype.reference)


def value_path(target: Target, node, found: Scan) -> str | None:
    """The input a container expression names: a parameter ``x``, a member ``d.v`` of a
    struct parameter, or the elements ``x[]`` of a range loop's element; None otherwise."""
    node = strip(node)
    if node is None:
        return None
    if node.type == "identifier" or (node.type in ("parameter_declaration", "type_identifier")
                                      and re.fullmatch(r"\w+", text(node).strip())):
        name = text(node).strip()  # std::vector<T> v(x) reads like a declaration of x
        if name in found.aliases:
            return found.aliases[name].path + "[]"
        return name if target.param(name) is not None else None
    if node.type == "field_expression":
        spelled = normalized(node).replace("->", ".")
        root = spelled.split(".")[0]
        if target.param(root) is not None and re.fullmatch(r"[\w.]+", spelled):
            return spelled
    return None


def _declaration(target: Target, node, found: Scan, counts: dict[str, int]) -> None:
    for child in node.children:
        if child.type not in ("init_declarator", "identifier", "array_declarator",
                              "function_declarator"):
            continue
        name, ctype = declared_type(node, child)
        if name is None:
            continue
        counts[name] = counts.get(name, 0) + 1
        value = child.child_by_field_name("value") if child.type == "init_declarator" else None
        if value is not None and ctype.kind in ("scalar", "auto") and not ctype.reference:
            found.definitions[name] = value
        if ctype.indexable:
            _local_container(target, name, ctype, child, value, found)


def _local_container(target: Target, name: str, ctype: CType, declarator, value,
                     found: Scan) -> None:
    """The size of a local container, from how it is declared (``std::vector<T> v(n)``,
    ``v(x)``, ``v = x``, ``std::array<T, 4>``, ``T v[8]``)."""
    if ctype.kind in ("std_array", "array") and ctype.extent:
        found.local_extents[name] = ctype.extent
        return
    arguments = None
    if declarator.type == "function_declarator":
        arguments = declarator.child_by_field_name("parameters")
    elif value is not None and value.type in ("argument_list", "initializer_list"):
        arguments = value if value.type == "argument_list" else None
    if arguments is not None:
        named = [a for a in arguments.named_children if a.type != "comment"]
        span = _range_pair(target, named[0], named[1], found) if len(named) == 2 else None
        if span is not None:  # std::vector<T> v(x, x + n): n elements read from x
            found.ranges.append((span[0], span[1], declarator.start_point[0] + 1))
            found.local_extents[name] = span[1]
            return
        if named and ctype.kind in ("vector", "bool_vector", "string"):
            source = value_path(target, named[0], found)
            if source is not None and len(named) == 1:
                found.local_extents[name] = ("copy", source)
            elif len(named) in (1, 2):
                found.local_extents[name] = named[0]
            return
    if value is not None:
        source = value_path(target, value, found)
        if source is not None:
            found.local_extents[name] = ("copy", source)
            return
    found.local_unknown.add(name)


def _assignment(node, found: Scan, target: Target | None = None) -> None:
    written = strip(node.child_by_field_name("left") if node.type == "assignment_expression"
                    else node.child_by_field_name("argument"))
    if target is not None and node.type == "assignment_expression" and \
            text(node.child(1)) != "=":  # a compound assignment is arithmetic on both sides
        _add_sources(target, [written, node.child_by_field_name("right")], found,
                     found.arithmetic)
    if written is not None and written.type == "identifier":
        found.assigned.add(text(written))
        if node.type == "assignment_expression":
            found.size_changed.add(text(written))  # a container assigned as a whole


def _call(target: Target, node, found: Scan, params: set[str]) -> None:
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    named = [a for a in arguments.named_children if a.type != "comment"] if arguments else []
    if function is None:
        return
    if function.type == "field_expression":
        _member_call(target, node, function, named, found)
        return
    name = re.sub(r"<.*>", "", normalized(function))
    if name in _FINDS and len(named) == 3:  # std::find(first, last, value)
        owner = _iterator_owner_node(named[0])
        path = value_path(target, owner, found) if owner is not None else None
        if path is not None:
            found.searched.add(path)
        _add_sources(target, [named[2]], found, found.searched)
    if name in _SORTS and named:
        path = _iterator_owner(named[0])
        if path is not None:
            found.sort_targets.add(path)
    _whole_arguments(target, name, named, found)


def _member_call(target: Target, node, function, named, found: Scan) -> None:
    member = text(function.child_by_field_name("field"))
    owner = strip(function.child_by_field_name("argument"))
    path = value_path(target, owner, found) if owner is not None else None
    if path is None:
        if owner is not None and owner.type == "identifier" and member in _SIZE_CHANGERS:
            found.local_unknown.add(text(owner))
            found.local_extents.pop(text(owner), None)
        return
    if member == "resize" and named and _top_level(target, node) and path not in found.resized:
        found.resized[path] = named[0]
    elif member in _SIZE_CHANGERS:
        found.size_changed.add(path)
    elif member in ("front", "back"):
        found.fronts.append((path, member, node.start_point[0] + 1))


def _top_level(target: Target, node) -> bool:
    """A statement directly in the function body (runs once, before what follows it)."""
    statement = node
    while statement is not None and statement.type != "expression_statement":
        statement = statement.parent
    return statement is not None and statement.parent == target.body


def _iterator_owner(node) -> str | None:
    owner = _iterator_owner_node(node)
    return normalized(owner) if owner is not None else None


def _iterator_owner_node(node):
    """The container ``x`` of ``x.begin()`` (``rbegin``, ``data``), or None."""
    node = strip(node)
    if node is not None and node.type == "call_expression":
        function = node.child_by_field_name("function")
        if function is not None and function.type == "field_expression" and text(
                function.child_by_field_name("field")) in ("begin", "rbegin", "data"):
            return strip(function.child_by_field_name("argument"))
    return None


def _range_pair(target: Target, first, second, found: Scan) -> tuple[str, object] | None:
    """(input, length) for ``(p, p + n)`` or ``(v.begin(), v.begin() + n)``: a range of the
    first n elements of an input."""
    start = strip(first)
    owner = _iterator_owner(start)
    if owner is None and start is not None and start.type == "identifier" and \
            target.param(text(start)) is not None:
        owner = text(start)
    end = strip(second)
    if owner is None or end is None or end.type != "binary_expression" or \
            text(end.child(1)) != "+":
        return None
    left, right = end.child_by_field_name("left"), end.child_by_field_name("right")
    if normalized(left) == normalized(start):
        return owner, right
    if normalized(right) == normalized(start):
        return owner, left
    return None


def _whole_arguments(target: Target, name: str, named: list, found: Scan) -> None:
    """Inputs passed whole to a function of this file, or as an iterator or pointer without
    their end to anything, are accessed where the harness cannot see; ``(p, p + n)`` is a
    range of n elements."""
    defined = target.context.scope.file.functions
    short = name.split("::")[-1]
    ends = {o for o in (_end_owner(a) for a in named) if o is not None}
    for first, second in itertools.pairwise(named):
        span = _range_pair(target, first, second, found)
        if span is not None:
            found.ranges.append((span[0], span[1], first.start_point[0] + 1))
            ends.add(span[0])
    for argument in named:
        bare = strip(argument)
        if bare is not None and bare.type == "identifier" and target.param(text(bare)) \
                is not None and short in defined and short != target.name:
            param = target.param(text(bare))
            if param.ctype.indexable or param.ctype.kind in ("struct", "container"):
                raise CannotSynthesize(f"{param.name} is passed whole to {short}(), whose "
                                       "accesses the harness does not follow")
        owner = _iterator_owner(argument)
        if owner is not None and target.param(owner.split(".")[0]) is not None and \
                owner not in ends and name not in _SORTS:
            raise CannotSynthesize(f"{owner} is passed to {name}() without its end: how many "
                                   "elements it needs is not known")


def _end_owner(node) -> str | None:
    node = strip(node)
    if node is not None and node.type == "call_expression":
        function = node.child_by_field_name("function")
        if function is not None and function.type == "field_expression" and text(
                function.child_by_field_name("field")) in ("end", "rend", "cend"):
            owner = strip(function.child_by_field_name("argument"))
            return normalized(owner) if owner is not None else None
    return None


def _binary(target: Target, node, found: Scan) -> None:
    operator = text(node.child(1))
    if operator in _ARITHMETIC:
        _add_sources(target, [node.child_by_field_name("left"),
                              node.child_by_field_name("right")], found, found.arithmetic)
    if operator in ("==", "!=") and _exits_a_loop(node):
        _add_sources(target, [node.child_by_field_name("left"),
                              node.child_by_field_name("right")], found, found.searched)
    if operator in ("/", "%"):
        divisor = strip(node.child_by_field_name("right"))
        path = _value_source(target, divisor, found)
        if path is not None:
            found.divided_by.add(path)
        return
    parts = comparison_parts(node)
    if parts is None:
        return
    for side in (parts[0], parts[2]):
        value = literal_value(strip(side))
        if value is not None and abs(value) <= 1e6:
            found.literals.add(value)


def _add_sources(target: Target, operands: list, found: Scan, into: set[str]) -> None:
    for operand in operands:
        path = _value_source(target, strip(operand), found)
        if path is not None:
            into.add(path)


def _exits_a_loop(node) -> bool:
    """True when ``node`` is (in) the condition of an ``if`` inside a loop whose branch
    returns or breaks: the test of a search."""
    condition = node
    while condition.parent is not None and condition.parent.type in (
            "parenthesized_expression", "binary_expression", "unary_expression",
            "condition_clause"):
        condition = condition.parent
    statement = condition.parent
    if statement is None or statement.type != "if_statement":
        return False
    branch = statement.child_by_field_name("consequence")
    if branch is None or not any(n.type in ("return_statement", "break_statement")
                                 for n in walk(branch)):
        return False
    enclosing = statement.parent
    while enclosing is not None and enclosing.type not in _LOOPS:
        if enclosing.type in ("function_definition", "lambda_expression"):
            return False
        enclosing = enclosing.parent
    return enclosing is not None


def _value_source(target: Target, node, found: Scan) -> str | None:
    """The input value an expression reads: ``x[i]`` -> x, ``A[i].v`` -> A.v, an element
    alias -> its container, a scalar parameter -> its name."""
    if node is None:
        return None
    if node.type == "identifier":
        name = text(node)
        if name in found.aliases:
            return found.aliases[name].path
        return name if target.param(name) is not None else None
    if node.type == "subscript_expression":
        base = strip(node.child_by_field_name("argument"))
        return value_path(target, base, found)
    if node.type == "field_expression":
        argument = strip(node.child_by_field_name("argument"))
        member = text(node.child_by_field_name("field"))
        inner = _value_source(target, argument, found)
        return f"{inner}.{member}" if inner is not None else None
    return None


def literal_value(node) -> float | None:
    """The number a literal spells (``10``, ``0.25``, ``'a'``, ``-1``), or None."""
    if node is None:
        return None
    spelled = text(node).strip()
    if node.type == "unary_expression" and spelled.startswith("-"):
        inner = literal_value(strip(node.child_by_field_name("argument")))
        return -inner if inner is not None else None
    if node.type == "char_literal":
        match = _CHAR.match(spelled)
        return float(ord(match.group(1)[-1])) if match and len(match.group(1)) == 1 else None
    if node.type == "number_literal" and _FLOAT.match(spelled.replace("'", "")):
        try:
            return float(spelled.rstrip("fFlLuUzZ").replace("'", ""))
        except ValueError:
            return None
    return None


def _size_check(target: Target, node, found: Scan) -> None:
    """``if (x.size() != e) throw ...;``: the function accepts only that size."""
    consequence = node.child_by_field_name("consequence")
    if consequence is None or not any(n.type == "throw_statement" for n in walk(consequence)):
        return
    condition = node.child_by_field_name("condition")
    inner = [c for c in condition.named_children if c.type != "comment"] if condition else []
    for term in _disjuncts(inner[-1]) if inner else []:  # a || b: each one throws
        parts = comparison_parts(term)
        if parts is None or parts[1] != "!=":
            continue
        for size_side, other in ((parts[0], parts[2]), (parts[2], parts[0])):
            owner = _size_owner(target, size_side, found)
            if owner is not None:
                found.exact_sizes[owner] = other
                break


def _disjuncts(node) -> list:
    node = strip(node)
    if node is not None and node.type == "binary_expression" and text(node.child(1)) == "||":
        return _disjuncts(node.child_by_field_name("left")) + \
            _disjuncts(node.child_by_field_name("right"))
    return [node] if node is not None else []


def _size_owner(target: Target, node, found: Scan) -> str | None:
    node = strip(node)
    if node is None or node.type != "call_expression":
        return None
    function = node.child_by_field_name("function")
    if function is None or function.type != "field_expression" or text(
            function.child_by_field_name("field")) not in ("size", "length"):
        return None
    return value_path(target, function.child_by_field_name("argument"), found)


def _self_compare(body) -> bool:
    """``x != x`` is the portable NaN test."""
    for node in walk(body):
        parts = comparison_parts(node) if node.type == "binary_expression" else None
        if parts and parts[1] in ("!=", "==") and normalized(parts[0]) == normalized(parts[2]):
            return True
    return False
