"""Dependence analysis of canonical C/C++ ``for`` loops: can the iterations run in parallel?

The analysis is conservative. A loop is declared parallel only when every write is either
to a private variable, a recognised reduction, or an array element whose index is injective
in the loop variable, and no other access to that array (or to an array that may alias it)
uses a different index. Anything else is refused with the dependence that was found.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from ellora.tools.cpp_syntax import (
    enclosing,
    loop_header,
    normalized,
    subscript_parts,
    text,
    walk,
)
from ellora.tools.loop_patterns import (
    extremum_operator,
    first_match,
    locate_operator,
    running_extremum,
    scan_kind,
)

PURE_FUNCTIONS = {
    "sqrt",
    "sqrtf",
    "exp",
    "expf",
    "log",
    "logf",
    "log2",
    "log10",
    "pow",
    "powf",
    "sin",
    "cos",
    "tan",
    "sinf",
    "cosf",
    "tanf",
    "atan",
    "atan2",
    "fabs",
    "fabsf",
    "abs",
    "floor",
    "ceil",
    "fmin",
    "fmax",
    "fma",
    "min",
    "max",
    "std::sqrt",
    "std::exp",
    "std::log",
    "std::pow",
    "std::sin",
    "std::cos",
    "std::tan",
    "std::atan2",
    "std::abs",
    "std::fabs",
    "std::floor",
    "std::ceil",
    "std::min",
    "std::max",
    "std::fma",
    "std::fmin",
    "std::fmax",
    "std::hypot",
    "hypot",
    "static_cast",
    "std::size",
}
REDUCTION_OPERATORS = {"+=": "+", "-=": "+", "*=": "*"}
_RESTRICT = re.compile(r"\b(__restrict__|__restrict|restrict)\b")


@dataclass
class Reduction:
    variable: str
    operator: str  # "+", "*", "max" or "min"
    type_name: str


@dataclass
class LoopFacts:
    """What the analysis found about one loop; ``refusal`` is set when it is not parallel."""

    variable: str = ""
    variable_type: str = "int"
    lower: str = ""
    upper: str = ""
    start_line: int = 0
    end_line: int = 0
    pattern: str = "map"
    reductions: list[Reduction] = field(default_factory=list)
    private: list[str] = field(default_factory=list)
    written_arrays: list[str] = field(default_factory=list)
    atomic_arrays: list[str] = field(default_factory=list)
    nested_depth: int = 1
    perfectly_nested: bool = False  # the body is exactly one rectangular inner loop
    irregular: bool = False  # inner trip counts depend on data or on the outer variable
    triangular: bool = False  # inner trip counts depend on the outer variable (j from i + 1)
    canonical_condition: str = ""  # set when the header's test must be rewritten (i + 1 < n)
    # pointer pairs that may overlap: the loop is parallel only under a run-time check
    overlap_check: dict = field(default_factory=dict)
    # whether the loops inside are worth planning when this one is refused: not when the
    # obstacle is possible aliasing (the inner loops are usually too small to pay off)
    plan_inner_loops: bool = True
    # a running sum read inside the loop: {"variable", "operator", "kind", "type_name"}
    scan: dict = field(default_factory=dict)
    recurrence: dict = field(default_factory=dict)  # running max/min of an array
    step: str = "1"  # ``i += step``: each iteration owns the block [i, i + step)
    block_offsets: dict = field(default_factory=dict)  # array -> offsets from i (step loops)
    # first index where a condition holds (``if (c) return r;``): {"condition", "result"}
    search: dict = field(default_factory=dict)
    # argmin/argmax keeping the first index: {"variable", "operator", "key", "type_name"}
    locate: dict = field(default_factory=dict)
    facts: list[str] = field(default_factory=list)
    refusal: str | None = None

    @property
    def parallel(self) -> bool:
        return self.refusal is None

    def to_dict(self) -> dict:
        return asdict(self)


class Refused(Exception):
    """The loop cannot be proved parallel; the message names the dependence."""


@dataclass
class _Access:
    array: str
    index: str
    is_write: bool
    node: object


def analyze_loop(loop, source: str) -> LoopFacts:
    """Analyze a tree-sitter ``for_statement``; never raises for a loop it does not handle."""
    facts = LoopFacts(start_line=loop.start_point[0] + 1, end_line=loop.end_point[0] + 1)
    try:
        _read_header(loop, facts)
        _analyze_body(loop, facts)
    except Refused as refusal:
        facts.refusal = str(refusal)
    return facts


def _read_header(loop, facts: LoopFacts) -> None:
    try:
        facts.variable, facts.variable_type, facts.lower, condition, update = loop_header(loop)
    except ValueError as missing:
        raise Refused(f"not a canonical loop: {missing}") from None
    var = facts.variable
    left = normalized(condition.child_by_field_name("left")) if condition.type == (
        "binary_expression") else ""
    shifted = re.fullmatch(rf"{re.escape(var)}\+(\d+)", left)
    if condition.type != "binary_expression" or (left != var and not shifted):
        raise Refused(f"not a canonical loop: the condition must compare {var} with a bound")
    operator = text(condition.child(1))
    if operator not in ("<", "<="):
        raise Refused(f"not a canonical loop: the condition uses {operator!r}; use < or <=")
    bound = text(condition.child_by_field_name("right"))
    facts.upper = bound if operator == "<" else f"({bound}) + 1"
    if shifted:  # i + c < n is i < n - c, written so that unsigned n < c cannot wrap
        if not facts.variable_type:
            raise Refused(f"not a canonical loop: declare {var} in the header to test {left}")
        offset = shifted.group(1)
        unsigned = re.search(r"size_t|unsigned", facts.variable_type)
        facts.upper = (
            f"(({facts.upper}) > {offset} ? ({facts.upper}) - {offset} : 0)"
            if unsigned
            else f"({facts.upper}) - {offset}"
        )
        facts.canonical_condition = f"{var} < {facts.upper}"
    step = normalized(update)
    strided = re.fullmatch(rf"{re.escape(var)}\+=(.+)|{re.escape(var)}={re.escape(var)}\+(.+)",
                           step)
    if step in (f"++{var}", f"{var}++", f"{var}+=1", f"{var}={var}+1"):
        return
    if not strided or shifted or not re.fullmatch(r"[\w()+\-*/ ]+", strided.group(1) or
                                                  strided.group(2)) or re.search(
            rf"\b{re.escape(var)}\b", strided.group(1) or strided.group(2)):
        raise Refused(f"not a canonical loop: {var} must step by 1 (++{var}) or by an "
                      f"invariant ({var} += s)")
    facts.step = strided.group(1) or strided.group(2)


def _analyze_body(loop, facts: LoopFacts) -> None:
    body = loop.child_by_field_name("body")
    var = facts.variable
    private = _declared_inside(body)
    inner_bounds = _inner_loop_bounds(body)
    _classify_nest(body, var, inner_bounds, facts)
    facts.nested_depth = (
        1 + _max_nesting(body) + (body.type in ("for_statement", "while_statement"))
    )
    accesses: list[_Access] = []
    scalar_writes: dict[str, list] = {}
    search = first_match(body, var)
    for node in walk(body):
        if search is None or node != search["node"]:
            _reject_control_flow(node, loop)
        if node.type == "call_expression":
            _check_call(node)
        if node.type in ("assignment_expression", "update_expression"):
            target = (
                node.child_by_field_name("left")
                if node.type == "assignment_expression"
                else node.child_by_field_name("argument")
            )
            _record_write(target, node, var, private, accesses, scalar_writes)
        if node.type == "subscript_expression" and not _is_write_target(node):
            array, index = subscript_parts(node)
            if array:
                accesses.append(_Access(array, index, False, node))
    if search is not None:
        if scalar_writes or any(a.is_write for a in accesses):
            raise Refused("the loop returns from inside and also writes; iterations are not "
                          "independent")
        facts.search = {"condition": search["condition"], "result": search["result"]}
        facts.facts.append(
            f"returns at the first {var} where {search['condition']}: a min-index search"
        )
    _classify_scalars(body, scalar_writes, private, facts)
    variant = (set(scalar_writes) | private) - set(inner_bounds) - {var}
    _check_arrays(loop, accesses, var, inner_bounds, facts, private, variant)
    facts.private = sorted(n for n in set(facts.private) if n not in private)
    _check_used_after(loop, facts.private)
    if facts.reductions:
        facts.pattern = "reduction" if not facts.written_arrays else "map+reduction"
    if facts.scan:
        facts.pattern = "scan"
    if facts.search or facts.locate:
        facts.pattern = "search" if facts.search else f"arg{facts.locate['operator']}"
    if facts.nested_depth > 1:
        facts.pattern += f", nested loops (depth {facts.nested_depth})"


def _check_used_after(loop, names: list[str]) -> None:
    """A private temporary read after the loop (or, for a loop inside another, anywhere in
    the enclosing loop, whose next iteration sees it) would need lastprivate: refuse."""
    function = enclosing(loop, "function_definition")
    if function is None or not names:
        return
    outer, current = loop, loop.parent
    while current is not None:  # the outermost loop around this one
        if current.type in ("for_statement", "while_statement", "do_statement"):
            outer = current
        current = current.parent
    for node in walk(function):
        inside_loop = loop.start_byte <= node.start_byte < loop.end_byte
        after = node.start_byte >= loop.end_byte
        in_outer = outer != loop and outer.start_byte <= node.start_byte < outer.end_byte
        if (
            node.type == "identifier"
            and text(node) in names
            and not inside_loop
            and (after or in_outer)
        ):
            raise Refused(
                f"{text(node)} is assigned in every iteration and read after the "
                "loop (it would need lastprivate); keep it inside the loop"
            )


def _declared_inside(body) -> set[str]:
    names = set()
    for node in walk(body):
        if node.type in ("init_declarator",):
            names.add(text(node.child_by_field_name("declarator")).lstrip("*&"))
        elif node.type == "declaration":
            for child in node.children:
                if child.type == "identifier":
                    names.add(text(child))
    return names


def _classify_nest(body, var: str, inner_bounds, facts: LoopFacts) -> None:
    statements = (
        [c for c in body.named_children if c.type != "comment"]
        if body.type == "compound_statement"
        else [body]
    )
    depends = [
        re.search(rf"\b{re.escape(var)}\b|\[", lower + " " + upper)
        for lower, upper in inner_bounds.values()
    ]
    facts.irregular = any(depends)
    facts.triangular = any(  # j from i + 1: affine in i (CSR row ranges come from memory)
        re.search(rf"\b{re.escape(var)}\b", bound) and "[" not in bound
        for bounds in inner_bounds.values() for bound in bounds
    )
    facts.perfectly_nested = (
        len(statements) == 1
        and statements[0].type == "for_statement"
        and bool(inner_bounds)
        and not facts.irregular
    )


def _inner_loop_bounds(body) -> dict[str, tuple[str, str]]:
    bounds = {}
    for node in walk(body):
        if node.type == "for_statement":
            probe = LoopFacts()
            try:
                _read_header(node, probe)
                bounds[probe.variable] = (
                    "".join(probe.lower.split()),
                    "".join(probe.upper.split()),
                )
            except Refused:
                continue
    return bounds


def _max_nesting(node) -> int:
    depths = [
        (_max_nesting(c) + (1 if c.type in ("for_statement", "while_statement") else 0))
        for c in node.children
    ]
    return max(depths, default=0)


def _reject_control_flow(node, loop) -> None:
    if node.type in ("return_statement", "goto_statement"):
        raise Refused(
            f"the loop body leaves the loop ({node.type.split('_')[0]}), "
            "so iterations are not independent"
        )
    if node.type == "break_statement" and _nearest_loop(node) == loop:
        raise Refused("the loop body breaks out of the loop; iterations are not independent")


def _nearest_loop(node):
    current = node.parent
    while current is not None and current.type not in (
        "for_statement",
        "while_statement",
        "do_statement",
        "switch_statement",
    ):
        current = current.parent
    return current


def _check_call(node) -> None:
    name = normalized(node.child_by_field_name("function"))
    if re.sub(r"<.*>$", "", name) in ("static_cast", "reinterpret_cast", "const_cast"):
        return
    if name not in PURE_FUNCTIONS:
        raise Refused(
            f"the loop calls {name}(), whose side effects are unknown; "
            "inline it or make sure it only reads its arguments"
        )


def _is_write_target(node) -> bool:
    parent = node.parent
    while parent is not None and parent.type in ("field_expression", "parenthesized_expression"):
        node, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type == "assignment_expression":
        return parent.child_by_field_name("left") == node
    return parent.type == "update_expression"


def _record_write(target, node, var, private, accesses, scalar_writes) -> None:
    while target.type in ("parenthesized_expression",):
        target = target.child(1)
    if target.type == "field_expression":
        base = target.child_by_field_name("argument")
        if base is not None and base.type == "subscript_expression":
            target = base
        else:
            raise Refused(
                f"the loop writes {text(target)} through a pointer or object member; "
                "its target may be shared between iterations"
            )
    if target.type == "identifier":
        name = text(target)
        if name == var:
            raise Refused(f"the loop body modifies the loop variable {var}")
        if name not in private:
            scalar_writes.setdefault(name, []).append(node)
        return
    if target.type == "subscript_expression":
        array, index = subscript_parts(target)
        if array is None:
            raise Refused(f"the loop writes {text(target)}, whose array cannot be identified")
        accesses.append(_Access(array, index, True, node))
        return
    raise Refused(
        f"the loop writes {text(target)} through a pointer; the target may be "
        "shared between iterations"
    )


def _classify_scalars(body, scalar_writes, private, facts: LoopFacts) -> None:
    for name, writes in scalar_writes.items():
        operators = {
            text(w.child(1)) if w.type == "assignment_expression" else "++" for w in writes
        }
        reads = [
            n
            for n in walk(body)
            if n.type == "identifier" and text(n) == name and not _is_write_target(n)
        ]
        if (
            operators <= set(REDUCTION_OPERATORS)
            and len({REDUCTION_OPERATORS[o] for o in operators}) == 1
        ):
            if any(not _inside(r, writes, "right") for r in reads):
                kind = scan_kind(body, name, writes, reads, facts.variable)
                if kind and facts.scan:
                    raise Refused("two scans in one loop; split the loop")
                if kind and operators == {"+="}:
                    facts.scan = {"variable": name, "operator": "+", "kind": kind,
                                  "type_name": _declared_type(body, name)}
                    facts.facts.append(
                        f"{name}: running sum read by the iteration that follows it: an "
                        f"{kind} prefix scan"
                    )
                    continue
                raise Refused(
                    f"{name} is accumulated and also read inside the loop; "
                    "each iteration would see a partial sum (a loop-carried dependence)"
                )
            op = REDUCTION_OPERATORS[next(iter(operators))]
            facts.reductions.append(Reduction(name, op, _declared_type(body, name)))
            facts.facts.append(f"{name}: {op}-reduction")
            continue
        located = locate_operator(body, name, writes, reads, facts.variable)
        if located and not facts.locate:
            facts.locate = {"variable": name, **located,
                            "type_name": _declared_type(body, name)}
            facts.facts.append(
                f"{name}: first {facts.variable} with the {located['operator']}imum of "
                f"{located['key']} (arg{located['operator']})"
            )
            continue
        extremum = extremum_operator(name, writes, reads)
        if extremum:
            facts.reductions.append(Reduction(name, extremum, _declared_type(body, name)))
            facts.facts.append(f"{name}: {extremum}-reduction")
            continue
        first_write = min(w.start_byte for w in writes)
        if (
            "=" in operators
            and len(operators) == 1
            and all(r.start_byte > first_write for r in reads)
            and _at_top_level(body, writes)
        ):
            facts.private.append(name)
            facts.facts.append(f"{name}: assigned before use in every iteration, made private")
            continue
        raise Refused(
            f"the scalar {name} carries a value from one iteration to the next "
            f"(written with {', '.join(sorted(operators))}); a loop-carried dependence"
        )


def _inside(node, writes, field_name: str) -> bool:
    for write in writes:
        side = write.child_by_field_name(field_name)
        if side is not None and side.start_byte <= node.start_byte < side.end_byte:
            return False  # a read of the accumulator inside its own update: not allowed
    return any(w.start_byte <= node.start_byte < w.end_byte for w in writes)


def _at_top_level(body, writes) -> bool:
    first = min(writes, key=lambda w: w.start_byte)
    statement = first.parent
    return statement is not None and statement.parent == body


def _declared_type(body, name: str) -> str:
    function = enclosing(body, "function_definition")
    scope = function if function is not None else body
    for node in walk(scope):
        if node.type in ("declaration", "parameter_declaration"):
            for declarator in node.children:
                inner = (
                    declarator.child_by_field_name("declarator")
                    if declarator.type == "init_declarator"
                    else declarator
                )
                if inner is not None and text(inner) == name:
                    return text(node.child_by_field_name("type"))
    raise Refused(f"cannot find the declaration of the reduction variable {name}")


def _check_arrays(
    loop, accesses, var, inner_bounds, facts: LoopFacts, local_names: set[str],
    variant: set[str] = frozenset(),
) -> None:
    from ellora.tools.row_dependence import (  # it imports this module
        check_strided_blocks,
        row_wise,
    )

    by_array: dict[str, list[_Access]] = {}
    for access in accesses:
        by_array.setdefault(access.array, []).append(access)
    written = sorted({a.array for a in accesses if a.is_write})
    facts.written_arrays = written
    if facts.step != "1":
        check_strided_blocks(loop, by_array, written, var, facts, variant)
        _check_aliasing(loop, by_array, written, facts, variant)
        return
    for array in written:
        indices = {a.index for a in by_array[array]}
        write_index = next(a.index for a in by_array[array] if a.is_write)
        own = ("".join(facts.lower.split()), "".join(facts.upper.split()))
        injective = _injective_in(write_index, var, inner_bounds, local_names, own)
        if not (injective and len(indices) == 1):
            rows = row_wise(loop, array, by_array[array], var)
            if rows:
                facts.facts.append(rows)
                continue
        if not injective:
            if _only_atomic_updates(by_array[array]):
                facts.atomic_arrays.append(array)
                facts.facts.append(
                    f"{array}[{write_index}]: iterations may update the same "
                    "element, so every update is made atomic"
                )
                continue
            if not re.search(rf"\b{re.escape(var)}\b", write_index):
                raise Refused(
                    f"every iteration of {var} writes {array}[{write_index}] (the subscript "
                    f"does not depend on {var}): a loop-carried dependence"
                )
            raise Refused(
                f"indirect or non-injective write {array}[{write_index}]: two "
                f"iterations may write the same element (a race); use atomics or "
                "a histogram reduction"
            )
        if len(indices) > 1:
            recurrence = running_extremum(loop, array, by_array[array], var,
                                          "".join(facts.lower.split()))
            if recurrence and not facts.recurrence:
                facts.recurrence = recurrence
                facts.facts.append(
                    f"{array}[{var}] is a running {recurrence['operator']} of "
                    f"{recurrence['value']} (it reads {array}[{var}-1]): a block scan"
                )
                continue
            others = sorted(indices - {write_index})
            raise Refused(
                f"loop-carried dependence on {array}: written at {array}[{write_index}] "
                f"and read at {array}[{others[0]}] in other iterations"
            )
        facts.facts.append(f"{array}[{write_index}]: each iteration writes its own element")
    _check_aliasing(loop, by_array, written, facts, variant)
    if facts.atomic_arrays:
        facts.pattern = "histogram (atomic updates)"


ATOMIC_OPERATORS = {"+=", "-=", "++", "--"}


def _only_atomic_updates(accesses: list[_Access]) -> bool:
    """Every access is an update ``a[k] += v`` / ``a[k]++`` as a whole statement: atomics apply."""
    for access in accesses:
        node = access.node
        if not access.is_write or node.parent is None or node.parent.type != "expression_statement":
            return False
        operator = (
            text(node.child(1))
            if node.type == "assignment_expression"
            else ("++" if "++" in text(node) else "--")
        )
        if operator not in ATOMIC_OPERATORS:
            return False
    return True


def _within(bounds: tuple[str, str], extent: str) -> bool:
    """True when an inner loop ``lower <= j < upper`` provably stays inside ``[0, extent)``."""
    lower, upper = bounds
    if not lower.isdigit():
        return False
    return upper == extent or bool(re.fullmatch(rf"\(?{re.escape(extent)}\)?-\d+", upper))


def _injective_in(
    index: str,
    var: str,
    inner_bounds: dict[str, tuple[str, str]],
    local_names: set[str] = frozenset(),
    own_bounds: tuple[str, str] | None = None,
) -> bool:
    """Whether different iterations of ``var`` always write different elements."""
    first = index.split("][")[0]
    if first == var:
        return True
    offset = re.fullmatch(rf"{re.escape(var)}[+-](.+)|(.+)\+{re.escape(var)}", first)
    if offset:
        names = set(re.findall(r"[A-Za-z_]\w*", offset.group(1) or offset.group(2)))
        if not names & (set(inner_bounds) | set(local_names) | {var}):
            return True
    v = re.escape(var)
    for inner, bounds in inner_bounds.items():
        j = re.escape(inner)
        match = re.fullmatch(
            rf"(?:{v}\*(?P<a>.+)|(?P<b>.+)\*{v})\+{j}|{j}\+(?:{v}\*(?P<c>.+)|"
            rf"(?P<d>.+)\*{v})",
            first,
        )
        if match:
            extent = next(g for g in match.groupdict().values() if g)
            if _within(bounds, extent) and not any(n in extent for n in (var, inner)):
                return True
        # j*m + i with 0 <= i < m: the row j and the column i are both determined
        match = re.fullmatch(
            rf"(?:{j}\*(?P<a>.+)|(?P<b>.+)\*{j})\+{v}|{v}\+(?:{j}\*(?P<c>.+)|(?P<d>.+)\*{j})",
            first,
        )
        if match and own_bounds is not None:
            extent = next(g for g in match.groupdict().values() if g)
            if (
                _within(own_bounds, extent)
                and not any(n in extent for n in (var, inner))
                and bounds[0].isdigit()
            ):
                return True
    return False


def _check_aliasing(loop, by_array, written, facts: LoopFacts, variant: set[str]) -> None:
    """Pointers that may overlap make the loop parallel only under a run-time check of the
    ranges it touches (loop versioning); without one, refuse with the overlap found."""
    from ellora.tools.access_conditions import holding_comparisons
    from ellora.tools.overlap import NotCheckable, plan_check

    function = enclosing(loop, "function_definition")
    if function is None:
        return
    kinds, types = _storage_kinds(function), _element_types(function)
    pairs, first_reason = [], ""
    for array in written:
        write_index = next(a.index for a in by_array[array] if a.is_write)
        for other, accesses in by_array.items():
            if other == array or any(p[:2] == (other, array) for p in pairs):
                continue
            mismatched = [a for a in accesses if a.index != write_index]
            if (
                kinds.get(array, "pointer") == kinds.get(other, "pointer") == "pointer"
                and _may_alias_types(_element_of(types.get(array)), _element_of(types.get(other)))
            ):
                # the same index is safe only through the same address: u = v + 1 makes
                # v[i] = u[i] a recurrence, so even those pairs are checked
                pairs.append((array, other, not mismatched))
                if not mismatched:
                    continue
                first_reason = first_reason or (
                    f"{array} and {other} may point to overlapping memory ({array} written at "
                    f"[{write_index}], {other} accessed at [{mismatched[0].index}])"
                )
    if not pairs and not facts.block_offsets:
        return
    if pairs:
        first_reason = first_reason or (
            f"{pairs[0][0]} and {pairs[0][1]} may point to overlapping memory at an offset")
    else:
        first_reason = f"{facts.variable} steps by {facts.step}"
    involved = sorted({name for pair in pairs for name in pair[:2]})  # stable output
    subscripts = {name: [a.index for a in by_array[name]] for name in involved}
    try:
        def stable(name: str) -> bool:  # no write of the loop can change its elements
            return name not in written and not any(
                _may_alias_types(_element_of(types.get(name)), _element_of(types.get(w)))
                for w in written)

        conditions = {name: [holding_comparisons(a.node, loop) for a in by_array[name]]
                      for name in involved}
        facts.overlap_check = plan_check(loop, pairs, subscripts, variant, stable, conditions,
                                         blocks=facts.block_offsets, step=facts.step)
        facts.overlap_check["address"] = {  # a std::vector& reaches its elements by .data()
            name: f"{name}.data()" for name in involved
            if re.match(r"(?:std::)?vector<", types.get(name) or "")
        }
    except NotCheckable as why:
        facts.plan_inner_loops = False
        raise Refused(
            f"{first_reason}, and the ranges cannot be checked at run time ({why})"
            + (": mark the pointers __restrict__ if they never overlap" if pairs else "")
        ) from None
    if pairs:
        facts.facts.append(
            "pointers that may overlap ("
            + ", ".join(f"{a}/{b}" for a, b, _ in pairs)
            + "): parallel only when a run-time check finds the ranges the loop touches disjoint"
        )


def _element_of(declared: str | None) -> str | None:
    """The element type of a subscripted name: T for std::vector<T>(&), else as declared."""
    vector = re.match(r"(?:std::)?vector<(.+)>&?$", declared or "")
    return vector.group(1) if vector else declared


_CHAR_TYPES = {"char", "unsignedchar", "signedchar", "std::byte", "void"}


def _may_alias_types(first: str | None, second: str | None) -> bool:
    """Pointers to different non-char element types cannot alias (C/C++ strict aliasing)."""
    if first is None or second is None or first == second:
        return True
    return first in _CHAR_TYPES or second in _CHAR_TYPES


def _element_types(function) -> dict[str, str]:
    """Declared element type of each pointer/array/reference name (const dropped)."""
    types: dict[str, str] = {}
    for node in walk(function):
        if node.type not in ("parameter_declaration", "declaration"):
            continue
        type_node = node.child_by_field_name("type")
        if type_node is None:
            continue
        base = normalized(type_node).replace("const", "")
        for child in node.children:
            if child.type in (
                "pointer_declarator",
                "reference_declarator",
                "array_declarator",
                "init_declarator",
                "identifier",
                "function_declarator",  # std::vector<T> v(n); parses like a declarator call
            ):
                name = re.sub(
                    r"^(__restrict__|__restrict|restrict)",
                    "",
                    re.sub(r"[^\w].*$", "", normalized(child).lstrip("*&")),
                )
                types[name] = base
    return types


def _storage_kinds(function) -> dict[str, str]:
    """'distinct' for local arrays/vectors and restrict pointers, else 'pointer'."""
    kinds: dict[str, str] = {}
    for node in walk(function):
        if node.type not in ("parameter_declaration", "declaration"):
            continue
        declaration = text(node)
        for child in node.children:
            name_node = (
                child.child_by_field_name("declarator")
                if child.type == "init_declarator"
                else child
            )
            if child.type not in (
                "pointer_declarator",
                "reference_declarator",
                "array_declarator",
                "init_declarator",
                "identifier",
            ):
                continue
            name = re.sub(r"[^\w].*$", "", normalized(name_node).lstrip("*&"))
            name = re.sub(r"^(__restrict__|__restrict|restrict)", "", name)
            pointerish = child.type in ("pointer_declarator", "reference_declarator") or (
                child.type == "init_declarator" and "*" in text(child).split("=")[0]
            )
            if node.type == "parameter_declaration" and not pointerish and "[" in text(child):
                pointerish = True  # array parameters decay to pointers
            restricted = bool(_RESTRICT.search(declaration))
            kinds[name] = "pointer" if pointerish and not restricted else "distinct"
    return kinds
