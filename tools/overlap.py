"""Run-time overlap checks (loop versioning) for pointers that may alias.

A loop that writes through one pointer parameter and reads through another cannot be proved
parallel from the function alone: the caller may pass overlapping buffers. It can still run
in parallel when the memory it touches through the two pointers is disjoint, which is cheap
to test before the loop. The touched range of each pointer comes from the loop nest: every
loop variable gets an interval hull from its bounds, and every subscript must be multilinear
in the loop variables (``i*n + k``, ``(i-1)*n + j``), so its extremes lie at the corners of
the hull. The transformations emit the test and keep the original loop for the overlapping
case, so the result equals the serial loop for every input.
"""

from __future__ import annotations

import ast
import itertools
import re
from dataclasses import dataclass

from ellora.tools.cpp_syntax import (
    after_includes,
    loop_header,
    normalized,
    text,
    walk,
    write_target,
)

_ALLOWED = re.compile(r"[A-Za-z_0-9+\-*/() ]+")
_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")
_INTEGER_SUFFIX = re.compile(r"\b(\d+)(?:[uU][lL]{0,2}|[lL]{1,2}[uU]?)\b")


class NotCheckable(ValueError):
    """The touched ranges cannot be computed before the loop; the message says why."""


@dataclass
class LoopRange:
    variable: str
    lower: str  # inclusive, C++ expression
    upper: str  # inclusive
    assigned: bool  # the variable outlives the loop (``for (j = 0; ...)``)


def loop_range(loop) -> LoopRange:
    """The inclusive range of a counted loop's variable, increasing or decreasing."""
    try:
        var, _, start, condition, update = loop_header(loop)
    except ValueError as missing:
        raise NotCheckable(f"a loop in the nest is not a counted loop: {missing}") from None
    start = "".join(start.split())
    step = normalized(update)
    increasing = step in (f"++{var}", f"{var}++", f"{var}+=1", f"{var}={var}+1")
    decreasing = step in (f"--{var}", f"{var}--", f"{var}-=1", f"{var}={var}-1")
    stride = re.fullmatch(rf"{re.escape(var)}\+=(.+)", step)
    if stride and not re.search(rf"\b{re.escape(var)}\b", stride.group(1)):
        increasing = True
    else:
        stride = None
    if condition.type != "binary_expression" or not (increasing or decreasing):
        raise NotCheckable(f"the loop over {var} is not a counted loop")
    left = normalized(condition.child_by_field_name("left"))
    bound = normalized(condition.child_by_field_name("right"))
    operator = text(condition.child(1))
    # i < ((n) > c ? (n) - c : 0): the form written for ``i + c < n`` with unsigned i
    clamped = re.fullmatch(r"\(\((.+)\)>(\d+)\?\(\1\)-\2:0\)", bound)
    if clamped:
        bound = f"({clamped.group(1)})-{clamped.group(2)}"
    shifted = re.fullmatch(rf"{re.escape(var)}\+(\d+)", left)
    offset = f"-{shifted.group(1)}" if shifted else ""
    if left != var and not shifted:
        raise NotCheckable(f"the loop over {var} does not compare {var} with a bound")
    if increasing and operator in ("<", "<=") and stride:
        if shifted:
            raise NotCheckable(f"the loop over {var} tests {left} and steps by {stride.group(1)}")
        last = f"({bound})" + ("-1" if operator == "<" else "")
        step = f"({stride.group(1)})"  # the last value the loop takes, not the bound
        # floor((last - start) / step) steps, below start when the loop does not run
        lower, upper = start, f"({start})+((({last}-({start})+{step})/{step})-1)*{step}"
    elif increasing and operator in ("<", "<="):
        lower, upper = start, f"({bound}){offset}" + ("-1" if operator == "<" else "")
    elif decreasing and operator in (">", ">=") and not shifted:
        lower, upper = f"({bound})" + ("+1" if operator == ">" else ""), start
    else:
        raise NotCheckable(f"the loop over {var} runs in a direction its test does not bound")
    body = loop.child_by_field_name("body")
    for node in walk(body):
        target = write_target(node)
        if target is not None and normalized(target) == var:
            raise NotCheckable(f"the body changes the loop variable {var}")
    return LoopRange(var, lower, upper, not _declares(loop))


def _declares(loop) -> bool:
    init = loop.child_by_field_name("initializer")
    return init is not None and init.type == "declaration"


def nest_ranges(loop) -> list[LoopRange | str]:
    """The loop's own range and those of every loop inside it, outermost first; a loop whose
    range cannot be read is the reason instead (it only matters if a subscript uses it)."""
    ranges: list[LoopRange | str] = [loop_range(loop)]
    for node in walk(loop.child_by_field_name("body")):
        if node.type == "for_statement":
            try:
                ranges.append(loop_range(node))
            except NotCheckable as why:
                ranges.append(str(why))
    names = [r.variable for r in ranges if isinstance(r, LoopRange)]
    if len(set(names)) != len(names):
        raise NotCheckable("two loops of the nest use the same variable name")
    return ranges


def _python_expression(expression: str) -> ast.expr:
    if not _ALLOWED.fullmatch(expression):
        raise NotCheckable(f"[{expression}] is not built from +, - and * of loop variables")
    try:
        return ast.parse(_INTEGER_SUFFIX.sub(r"\1", expression), mode="eval").body
    except SyntaxError:
        raise NotCheckable(f"[{expression}] cannot be read as an affine expression") from None


def _degree(node: ast.expr, variable: str) -> int:
    if isinstance(node, ast.Name):
        return int(node.id == variable)
    if isinstance(node, ast.Constant):
        return 0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _degree(node.operand, variable)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return max(_degree(node.left, variable), _degree(node.right, variable))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _degree(node.left, variable) + _degree(node.right, variable)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        if _degree(node.left, variable) or _degree(node.right, variable):
            raise NotCheckable(f"a checked subscript divides the loop variable {variable}")
        return 0
    raise NotCheckable("only +, - and * are allowed in a checked subscript")


def _loop_variables_in(expression: str, loop_variables: list[str], variant: set[str]) -> list[str]:
    """The loop variables the expression is multilinear in; other names must be invariant."""
    tree = _python_expression(expression)
    used = []
    for name in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}:
        if name in loop_variables:
            if _degree(tree, name) > 1:
                raise NotCheckable(f"[{expression}] is not linear in {name}")
            used.append(name)
        elif name in variant:
            raise NotCheckable(f"[{expression}] uses {name}, which changes inside the loop")
    return sorted(used, key=loop_variables.index)


def _substitute(expression: str, corner: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(0)
        if name in corner:
            return corner[name]
        return f"(ellora_ll)({name})"

    substituted = _IDENTIFIER.sub(replace, expression)
    return substituted if re.fullmatch(r"[\w()]+", substituted) else f"({substituted})"


def _extreme(which: str, values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    return f"std::{which}(ellora_values{{{', '.join(values)}}})"


def _corners(expression: str, used: list[str]) -> list[str]:
    choices = [[(v, f"ellora_{v}_lo"), (v, f"ellora_{v}_hi")] for v in used]
    return [_substitute(expression, dict(c)) for c in itertools.product(*choices)] or [
        _substitute(expression, {})
    ]


_CAST = re.compile(r"static_cast<[\w:\s]+>\(")


def local_definitions(loop) -> dict[str, str]:
    """``long r = i + di;`` inside the loop, never assigned again: r -> (i+di), so subscripts
    through such locals can still be bounded."""
    body = loop.child_by_field_name("body")
    values: dict[str, str] = {}
    assigned: set[str] = set()
    for node in walk(body):
        if node.type == "init_declarator" and node.child_by_field_name("value") is not None:
            name = text(node.child_by_field_name("declarator"))
            value = node.child_by_field_name("value")
            values[name] = normalized(value) if name not in values else ""
        target = write_target(node)
        if target is not None:
            assigned.add(normalized(target))
    return {n: v for n, v in values.items() if v and n not in assigned}


def _expand(expression: str, definitions: dict[str, str]) -> str:
    expression = _CAST.sub("(", expression)
    for _ in range(4):
        expanded = _IDENTIFIER.sub(
            lambda m: f"({_CAST.sub('(', definitions[m.group(0)])})"
            if m.group(0) in definitions else m.group(0),
            expression,
        )
        if expanded == expression:
            break
        expression = expanded
    return expression


_LOAD = re.compile(r"\b([A-Za-z_]\w*)\[([^\[\]]+)\]")


def _conditional(loop) -> bool:
    """Whether some statement of the body runs only under a condition."""
    body = loop.child_by_field_name("body")
    return any(
        node.type in ("if_statement", "conditional_expression", "while_statement")
        or (node.type == "binary_expression" and text(node.child(1)) in ("&&", "||"))
        for node in walk(body)
    )


def _indirect_loads(expressions: list[str], stable, variant: set[str], names: list[str],
                    pseudo: dict[tuple[str, str], str]) -> list[str]:
    """The expressions with each load ``A[e]`` (A never changed by the loop, e free of other
    loads) replaced by a pseudo variable whose range the guard computes by replaying the loop
    headers: CSR row pointers and column indices (``x[cols[k]]``)."""
    replaced = []
    for expression in expressions:
        def name_load(match: re.Match) -> str:
            array, index = match.group(1), match.group(2)
            if not stable(array):
                raise NotCheckable(f"{array}[{index}] is read from memory the loop may change")
            used = {n for n in _IDENTIFIER.findall(index)}
            if used & variant:
                raise NotCheckable(f"{array}[{index}] uses a value that changes inside the loop")
            key = (array, index)
            if key not in pseudo:
                pseudo[key] = f"ellora_load{len(pseudo)}"
                names.append(pseudo[key])
            return pseudo[key]

        result = _LOAD.sub(name_load, expression)
        if "[" in result:
            raise NotCheckable(f"[{expression}] has nested loads")
        replaced.append(result)
    return replaced


def _replay_nest(variables: set[str], known: list[LoopRange]) -> list[LoopRange]:
    """The loops (outermost first) whose headers must run to visit every value of
    ``variables``: those loops and every loop their bounds depend on."""
    needed, names = set(variables), [r.variable for r in known]
    for r in reversed(known):
        if r.variable in needed:
            for bound in (r.lower, r.upper):
                needed.update(n for n in _IDENTIFIER.findall(bound) if n in names)
    return [r for r in known if r.variable in needed]


def _bound_of(name: str, operator: str, left: str, right: str) -> tuple[str, str] | None:
    """``name operator value`` from a comparison with ``name`` (plus or minus a term without
    it) on one side, casts dropped, when the other side holds no loop variable or local."""
    flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
    left, right = _CAST.sub("(", left), _CAST.sub("(", right)
    for side, other, op in ((left, right, operator), (right, left, flipped[operator])):
        match = re.fullmatch(rf"\(*{re.escape(name)}\)*(?:([+-])(.+))?", side)
        if match is None or (match.group(2) and name in _IDENTIFIER.findall(match.group(2))):
            continue
        if not match.group(1):
            return op, other
        moved = "-" if match.group(1) == "+" else "+"
        return op, f"({other}){moved}({match.group(2)})"
    return None


def _refine(index: str, comparisons, names: list[str], definitions: dict[str, str],
            variant: set[str], refined: list[dict]) -> str:
    """The subscript with each loop variable or local that a holding comparison bounds
    replaced by a narrower pseudo variable (its range is computed in the guard)."""
    index = _CAST.sub("(", index)
    bounds: dict[str, list[tuple[str, str]]] = {}
    for left, operator, right in comparisons:
        for name in set(_IDENTIFIER.findall(left + " " + right)):
            if name not in names and name not in definitions:
                continue
            bound = _bound_of(name, operator, left, right)
            if bound is None or not _ALLOWED.fullmatch(bound[1]):
                continue
            others = set(_IDENTIFIER.findall(bound[1]))
            if others & (set(names) | set(definitions) | variant):
                continue
            bounds.setdefault(name, []).append(bound)
    for name, limits in bounds.items():
        if not re.search(rf"\b{re.escape(name)}\b", index):
            continue
        base = None if name in names else _expand(name, definitions)
        if base is not None and "[" in base:
            continue
        limits = sorted(set(limits))
        same = [r for r in refined if r["variable"] == name and r["limits"] == limits]
        if same:
            pseudo = same[0]["name"]
        else:
            pseudo = f"ellora_c{len(refined)}_{name}"
            refined.append({"name": pseudo, "variable": name, "expansion": base,
                            "limits": limits})
        index = re.sub(rf"\b{re.escape(name)}\b", pseudo, index)
    return index


def _evaluated(expression: str, values: dict[str, int]) -> int:
    """An expression of +, -, *, / and names at integer values (C++'s division of
    non-negative integers); NotCheckable when it cannot be evaluated."""
    try:
        tree = ast.parse(expression.replace("/", "//"), mode="eval")
        return eval(compile(tree, "", "eval"), {"__builtins__": {}}, values)
    except (SyntaxError, ArithmeticError, NameError, TypeError):
        raise NotCheckable(f"[{expression}] cannot be evaluated") from None


def block_offsets(loop, var: str, indices: list[str]) -> list[str]:
    """The offsets c of subscripts ``var + c`` (locals expanded), or NotCheckable."""
    definitions = local_definitions(loop)
    offsets = []
    for index in indices:
        expanded = _expand(index, definitions)
        tree = _python_expression(expanded)
        if _degree(tree, var) != 1:
            raise NotCheckable(f"[{expanded}] is not linear in {var}")
        offset = re.sub(rf"\b{re.escape(var)}\b", "0", expanded)
        values = {n: 5 + len(n) for n in _IDENTIFIER.findall(expanded)}
        for probe in (3, 17):  # the coefficient of var must be 1: index(var) - offset == var
            at = re.sub(rf"\b{re.escape(var)}\b", str(probe), expanded)
            if _evaluated(at, values) - _evaluated(offset, values) != probe:
                raise NotCheckable(f"[{expanded}] does not move one element per step of {var}")
        offsets.append(offset)
    return offsets


def plan_check(loop, pairs: list[tuple[str, str]], subscripts: dict[str, list[str]],
               variant: set[str], stable=lambda array: False,
               conditions: dict[str, list] | None = None, blocks: dict | None = None,
               step: str = "1") -> dict:
    """A JSON-ready description of the test, or NotCheckable with the reason. ``stable(A)``
    says whether array A keeps its values during the loop (then loads from it may bound
    subscripts and loop ranges); ``conditions[A][k]`` lists comparisons that hold whenever
    the k-th access of A runs (they narrow its range)."""
    definitions = local_definitions(loop)
    every = nest_ranges(loop)
    unreadable = [r for r in every if isinstance(r, str)]
    known = [r for r in every if isinstance(r, LoopRange)]
    names = [r.variable for r in known]
    refined: list[dict] = []
    if conditions:
        subscripts = {
            a: [_refine(i, c, names, definitions, variant - set(definitions), refined)
                if c else i for i, c in zip(idx, conditions.get(a, [[]] * len(idx)))]
            for a, idx in subscripts.items()
        }
    subscripts = {a: [_expand(i, definitions) for i in idx] for a, idx in subscripts.items()}
    variant = variant - set(definitions)
    base_names = list(names)
    names += [r["name"] for r in refined]
    pseudo: dict[tuple[str, str], str] = {}
    if any(_LOAD.search(i) for idx in subscripts.values() for i in idx) and _conditional(loop):
        raise NotCheckable("a subscript loads its index under a condition")
    subscripts = {a: _indirect_loads(idx, stable, variant, names, pseudo)
                  for a, idx in subscripts.items()}
    bounded = []
    for r in known:
        lower, upper = _indirect_loads([r.lower, r.upper], stable, variant, names, pseudo)
        bounded.append(LoopRange(r.variable, lower, upper, r.assigned))
    needed = {known[0].variable}
    for array, indices in subscripts.items():
        for index in indices:
            if "][" in index:
                raise NotCheckable(f"{array} has a multi-dimensional subscript")
            try:
                needed.update(_loop_variables_in(index, names, variant))
            except NotCheckable as why:
                raise NotCheckable(f"{why}; {unreadable[0]}" if unreadable else str(why)) from None
    for r in refined:  # a narrowed variable starts from its own range or its local's
        if r["name"] in needed:
            needed.update(_loop_variables_in(r["expansion"], base_names, variant)
                          if r["expansion"] else [r["variable"]])
    offsets = sorted({o for found in (blocks or {}).values() for o in found})
    for offset in offsets:  # the offsets of a strided loop range over the loops inside it
        needed.update(_loop_variables_in(offset, names, variant))
    for r in reversed(bounded):  # a needed loop's bounds may need the loops around it
        if r.variable in needed:
            for bound in (r.lower, r.upper):
                needed.update(_loop_variables_in(bound, names, variant))
    loads = []
    for (array, index), name in pseudo.items():
        if name not in needed:
            continue
        nest = _replay_nest({n for n in _IDENTIFIER.findall(index)}, known)
        loads.append([name, f"{array}[{index}]",
                      [[r.variable, r.lower, r.upper] for r in nest]])
    ranges = [r for r in bounded if r.variable in needed]
    return {
        "pairs": [list(p) for p in pairs],
        "loads": loads,
        "ranges": [[r.variable, r.lower, r.upper, r.assigned] for r in ranges],
        "refined": [r for r in refined if r["name"] in needed],
        "blocks": {"step": step, "offsets": offsets} if offsets else {},
        "subscripts": {a: sorted(set(i)) for a, i in subscripts.items()},
        "variant": sorted(variant),
    }


def _as_long_long(expression: str) -> str:
    """A C++ expression evaluated in long long: names cast, loads ``A[e]`` kept as loads."""
    held: list[str] = []

    def hold(match: re.Match) -> str:
        held.append(f"((ellora_ll)({match.group(1)}[{_as_long_long(match.group(2))}]))")
        return f"@{len(held) - 1}@"

    converted = _IDENTIFIER.sub(lambda m: f"(ellora_ll)({m.group(0)})",
                                _LOAD.sub(hold, expression))
    return re.sub(r"@(\d+)@", lambda m: held[int(m.group(1))], converted)


def _load_range_lines(name: str, load: str, nest: list[list[str]], indent: str) -> list[str]:
    """Lines computing ``name``'s lowest and highest value: the loop headers run again
    (reading only what the loop reads) and the load is evaluated at every iteration. A
    segmented (CSR) nest, ``k`` from ``A[i]`` to ``A[i+1]``, visits one contiguous range when
    ``A`` never decreases: that is checked first and the load then scanned flat."""
    lo, hi = f"ellora_{name}_lo", f"ellora_{name}_hi"  # the names _corners substitutes
    array = load.split("[", 1)[0]
    kind = f"ellora_{name}_t"
    # min/max in the element's own type (int, ...): the compiler vectorizes those loops
    lines = [
        f"typedef std::decay_t<decltype({array}[0])> {kind};",
        f"{kind} {lo}_e = std::numeric_limits<{kind}>::max(), "
        f"{hi}_e = std::numeric_limits<{kind}>::lowest();",
    ]
    update = [f"const {kind} ellora_v = {load.split('[', 1)[0]}[{_as_long_long(load[len(array) + 1:-1])}];",
              f"{lo}_e = ellora_v < {lo}_e ? ellora_v : {lo}_e;",
              f"{hi}_e = ellora_v > {hi}_e ? ellora_v : {hi}_e;"]
    segmented = _segment_array(nest)
    replay = _replay_lines(nest, update)
    if segmented:
        (outer, lower, upper), (inner, _, _) = nest
        first, last = _as_long_long(lower), _as_long_long(upper)
        lines += [
            "long long ellora_drops = 0;  // segment starts never decrease: one flat range",
            f"for (ellora_ll {outer} = {first}; {outer} <= {last}; ++{outer}) "
            f"ellora_drops += {segmented}[{outer}] > {segmented}[{outer} + 1];",
            "if (ellora_drops == 0) {",
            f"  if ({first} <= {last}) {{",
            f"    for (ellora_ll {inner} = {segmented}[{first}]; {inner} < "
            f"{segmented}[{last} + 1]; ++{inner}) {{",
            *[f"      {u}" for u in update],
            "    }",
            "  }",
            "} else {",
            *[f"  {line}" for line in replay],
            "}",
        ]
    else:
        lines += replay
    lines.append(f"if ({lo}_e > {hi}_e) return false;  // never loaded: stay serial")
    lines.append(f"const ellora_ll {lo} = {lo}_e, {hi} = {hi}_e;")
    return lines


def _refined_lines(refined: dict, names: list[str], variant: set[str]) -> list[str]:
    """A narrowed variable's range: its loop range (or its local's corners) cut by the
    comparisons that hold at the access; an empty result keeps the whole range."""
    lo, hi = f"ellora_{refined['name']}_lo", f"ellora_{refined['name']}_hi"
    if refined["expansion"]:
        used = _loop_variables_in(refined["expansion"], names, variant)
        corners = _corners(refined["expansion"], used)
        base_lo, base_hi = _extreme("min", corners), _extreme("max", corners)
    else:
        base_lo, base_hi = f"ellora_{refined['variable']}_lo", f"ellora_{refined['variable']}_hi"
    lines = [f"ellora_ll {lo} = {base_lo}, {hi} = {base_hi};"]
    exclusions = []
    for operator, value in refined["limits"]:
        value = f"(ellora_ll){_substitute(value, {})}"
        if operator in (">=", ">", "=="):
            lines.append(f"{lo} = std::max({lo}, {value}{' + 1' if operator == '>' else ''});")
        if operator in ("<=", "<", "=="):
            lines.append(f"{hi} = std::min({hi}, {value}{' - 1' if operator == '<' else ''});")
        if operator == "!=":
            exclusions.append(f"if ({lo} == {value}) ++{lo}; if ({hi} == {value}) --{hi};")
    lines += exclusions * min(2, len(exclusions))
    lines.append(f"if ({lo} > {hi}) {{ {lo} = {base_lo}; {hi} = {base_hi}; }}")
    return lines


def _segment_array(nest: list[list[str]]) -> str | None:
    """A when the nest is ``for i: for k in [A[i], A[i+1])``, else None."""
    if len(nest) != 2:
        return None
    (outer, _, _), (_, lower, upper) = nest
    match = re.fullmatch(rf"([A-Za-z_]\w*)\[{re.escape(outer)}\]", lower)
    if match is None:
        return None
    array = match.group(1)
    return array if upper == f"({array}[{outer}+1])-1" else None


def _replay_lines(nest: list[list[str]], update: list[str]) -> list[str]:
    lines, depth = [], ""
    for var, lower, upper in nest:
        lines.append(f"{depth}for (ellora_ll {var} = {_as_long_long(lower)}; "
                     f"{var} <= {_as_long_long(upper)}; ++{var}) {{")
        depth += "  "
    lines += [f"{depth}{u}" for u in update]
    for _ in nest:
        depth = depth[:-2]
        lines.append(f"{depth}}}")
    return lines


def guard_declaration(check: dict, name: str, indent: str) -> str:
    """C++ ``const bool NAME = ...;``: true when the ranges are disjoint (parallel is safe)."""
    variant = set(check["variant"])
    names = [r[0] for r in check["ranges"]]
    lines = [
        "typedef long long ellora_ll;",
        "typedef std::initializer_list<ellora_ll> ellora_values;",
    ]
    loads = check.get("loads", [])
    for load_name, load, nest in loads:
        lines += _load_range_lines(load_name, load, nest, indent)
    pseudo = [load_name for load_name, _, _ in loads]
    for position, (var, lower, upper, assigned) in enumerate(check["ranges"]):
        widen = " - 1" if assigned else ""
        grow = " + 1" if assigned else ""
        outer = pseudo + names[:position]
        low = _corners(lower, _loop_variables_in(lower, outer, variant))
        high = _corners(upper, _loop_variables_in(upper, outer, variant))
        lines.append(
            f"const ellora_ll ellora_{var}_lo = {_extreme('min', low)}{widen}, "
            f"ellora_{var}_hi = {_extreme('max', high)}{grow};"
        )
        if position == 0:
            lines.append(f"if (ellora_{var}_lo > ellora_{var}_hi) return true;  // no iteration")
        else:
            lines.append(f"if (ellora_{var}_lo > ellora_{var}_hi) return false;")
    blocks = check.get("blocks") or {}
    if blocks:  # every iteration stays in its own block [i, i + step)
        corners = [c for offset in blocks["offsets"]
                   for c in _corners(offset, _loop_variables_in(offset, names, variant))]
        lines.append(f"if ({_extreme('min', corners)} < 0 || {_extreme('max', corners)} > "
                     f"{_substitute(blocks['step'], {})} - 1) return false;  // blocks overlap")
    for refined in check.get("refined", []):
        lines += _refined_lines(refined, names, variant)
    pseudo += [r["name"] for r in check.get("refined", [])]
    for array, indices in check["subscripts"].items():
        if len(set(indices)) == 1 and indices[0] in names + pseudo:  # a[i]: i's own range
            first, last = f"ellora_{indices[0]}_lo", f"ellora_{indices[0]}_hi"
        else:
            corners = [c for index in indices for c in
                       _corners(index, _loop_variables_in(index, pseudo + names, variant))]
            first, last = _extreme("min", corners), _extreme("max", corners)
        lines.append(
            f"const ellora_ll ellora_{array}_first = {first}, ellora_{array}_last = {last};"
        )
    tests = []
    address = check.get("address", {})
    for a, b, *same in check["pairs"]:
        pa, pb = address.get(a, a), address.get(b, b)
        apart = (f"ellora_apart({pa}, ellora_{a}_first, ellora_{a}_last, sizeof(*{pa}),\n"
                 f"{indent}                      "
                 f"{pb}, ellora_{b}_first, ellora_{b}_last, sizeof(*{pb}))")
        # the same index through the same address is each iteration's own element
        tests.append(f"(static_cast<const void*>({pa}) == static_cast<const void*>({pb}) || "
                     f"{apart})" if same and same[0] else apart)
    lines.append("return " + (f"\n{indent}    && ".join(tests) or "true") + ";")
    if not any("ellora_values{" in line or "ellora_values ellora_" in line for line in lines):
        lines.remove("typedef std::initializer_list<ellora_ll> ellora_values;")
    body = f"\n{indent}  ".join(lines)
    pairs = ", ".join(f"{p[0]}/{p[1]}" for p in check["pairs"])
    return (
        f"// Ellora: {pairs} may overlap; run in parallel only when the ranges the loop\n"
        f"{indent}// touches through them are disjoint or the very same buffer (otherwise the\n"
        f"{indent}// original serial loop runs). Mark the pointers __restrict__ to drop the test.\n"
        f"{indent}const bool {name} = [&]() -> bool {{\n{indent}  {body}\n{indent}}}();\n"
    )


APART_HELPER = """\
// Ellora: whether elements [p0, p1] after p and [q0, q1] after q (sizes ps, qs) are apart.
static inline bool ellora_apart(const void* p, long long p0, long long p1, long long ps,
                                const void* q, long long q0, long long q1, long long qs) {
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t b = reinterpret_cast<std::uintptr_t>(q);
  const std::uintptr_t pb = a + (std::uintptr_t)(p0 * ps), pe = a + (std::uintptr_t)((p1 + 1) * ps);
  const std::uintptr_t qb = b + (std::uintptr_t)(q0 * qs), qe = b + (std::uintptr_t)((q1 + 1) * qs);
  return pe <= qb || qe <= pb;
}
"""


def with_apart_helper(source: str) -> str:
    """The source with ``ellora_apart`` defined after its last include (once)."""
    if "bool ellora_apart(" in source:
        return source
    return after_includes(source, "\n" + APART_HELPER)


def guard_name(facts) -> str:
    return f"ellora_disjoint_{facts.start_line}"
