"""Running maxima and minima: ``out[i] = (i == 0 || x[i] > out[i - 1]) ? x[i] : out[i - 1]``.

The loop reads what the previous iteration wrote, so it is refused as a plain parallel
loop; but the value it carries is a running extremum, which composes across blocks: the
running value after a block started from ``r`` is ``(m > r) ? m : r``, where ``m`` is the
block's own running value started from the identity (the lowest value for a maximum). So
the loop becomes a two-pass block scan: pass 1 runs each block's recurrence on its own,
the offsets of the blocks are combined in order with the loop's own comparison, and pass 2
replays each block from its offset writing ``out``. The first block starts exactly as the
loop does (its ``i == 0`` rule or ``out[lo - 1]``), so NaNs and ties behave as in the loop.
"""

from __future__ import annotations

import re

from ellora.tools.cpp_syntax import text

_MAX_CALLS = {"std::max": ">", "max": ">", "std::min": "<", "min": "<"}


def _bare(node):
    while node is not None and node.type == "parenthesized_expression":
        node = node.named_children[0] if node.named_children else None
    return node


def _flat(node) -> str:
    return "".join(text(node).split())


def running_extremum(loop, array: str, accesses, var: str, lower: str) -> dict | None:
    """The recurrence's parts when the loop body is exactly ``A[var] = E;`` with E a running
    max/min of A[var - 1] and a value that does not read A; else None."""
    body = loop.child_by_field_name("body")
    statements = [c for c in body.named_children if c.type != "comment"] \
        if body.type == "compound_statement" else [body]
    writes = [a for a in accesses if a.is_write]
    if len(statements) != 1 or len(writes) != 1 or statements[0].type != "expression_statement":
        return None
    assignment = writes[0].node
    if assignment.parent != statements[0] or assignment.type != "assignment_expression" or \
            text(assignment.child(1)) != "=" or writes[0].index != var:
        return None
    previous = f"{array}[{var}-1]"
    reads = [a for a in accesses if not a.is_write]
    if not reads or any(a.index != f"{var}-1" for a in reads):
        return None
    expression = _bare(assignment.child_by_field_name("right"))
    parts = _conditional(expression, previous, var, lower, array) if expression is not None \
        and expression.type == "conditional_expression" else _call(expression, previous, array)
    if parts is None:
        return None
    value, compare, first_rule = parts
    return {
        "array": array, "value": value, "compare": compare, "first_rule": first_rule,
        "expression": text(assignment.child_by_field_name("right")),
        "previous": text(next(a.node for a in reads)),
        "operator": "max" if compare in (">", ">=") else "min",
    }


def _conditional(node, previous: str, var: str, lower: str, array: str):
    condition = _bare(node.child_by_field_name("condition"))
    taken = node.child_by_field_name("consequence")
    kept = node.child_by_field_name("alternative")
    if taken is None or kept is None or _flat(kept) != previous:
        return None
    value = text(taken)
    if re.search(rf"\b{re.escape(array)}\b", value):
        return None
    first_rule = False
    if condition.type == "binary_expression" and text(condition.child(1)) == "||":
        first = _bare(condition.child_by_field_name("left"))
        if _flat(first) not in (f"{var}=={lower}", f"{lower}=={var}"):
            return None
        first_rule, condition = True, _bare(condition.child_by_field_name("right"))
    if condition is None or condition.type != "binary_expression":
        return None
    left, right = _flat(condition.child_by_field_name("left")), _flat(
        condition.child_by_field_name("right"))
    operator = text(condition.child(1))
    flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
    if operator not in flipped:
        return None
    if left == _flat(taken) and right == previous:
        return value, operator, first_rule
    if right == _flat(taken) and left == previous:
        return value, flipped[operator], first_rule
    return None


def _call(node, previous: str, array: str):
    if node is None or node.type != "call_expression":
        return None
    name = _flat(node.child_by_field_name("function"))
    arguments = [a for a in node.child_by_field_name("arguments").named_children
                 if a.type != "comment"]
    if name not in _MAX_CALLS or len(arguments) != 2 or _flat(arguments[0]) != previous:
        return None
    value = text(arguments[1])  # std::max(prev, v) = (prev < v) ? v : prev
    if re.search(rf"\b{re.escape(array)}\b", value):
        return None
    return value, _MAX_CALLS[name], False


def rewrite_recurrence(target: str, source: str, loop, facts) -> tuple[str, str]:
    """The loop as a two-pass block scan on OpenMP threads or Kokkos host chunks."""
    from ellora.tools.transformations import (
        _byte_to_char,
        _ensure_include,
        _guard_includes,
        _indent_of,
        _loop_span,
        _versioned,
        ensure_kokkos_include,
        ensure_kokkos_initialized,
    )

    if target not in ("openmp", "kokkos"):
        raise ValueError(f"no {target} transformation for a running {facts.recurrence['operator']}")
    r = facts.recurrence
    array, var = r["array"], facts.variable
    var_type = facts.variable_type or "long long"
    kind = f"ellora_{array}_t"
    identity = (f"std::numeric_limits<{kind}>::lowest()" if r["operator"] == "max"
                else f"std::numeric_limits<{kind}>::max()")
    first = identity if r["first_rule"] else f"{array}[({facts.lower}) - 1]"
    step = r["expression"].replace(r["previous"], "ellora_run")
    combine = (f"(ellora_blocks[ellora_b] {r['compare']} ellora_run) ? ellora_blocks[ellora_b] "
               ": ellora_run")
    start, end = _loop_span(source, loop)
    indent = _indent_of(source, _byte_to_char(source, loop.start_byte))
    pad = indent + "  "
    block_range = (
        f"{pad}    const long long ellora_lo = (long long)({facts.lower}), "
        f"ellora_hi = (long long)({facts.upper});\n"
        f"{pad}    const long long ellora_n = ellora_hi > ellora_lo ? ellora_hi - ellora_lo : 0;\n"
        # equal blocks from the front: block 0 holds the first iteration whenever there is one
        f"{pad}    const long long ellora_chunk = (ellora_n + ellora_p - 1) / ellora_p;\n"
        f"{pad}    const {var_type} ellora_begin = ({var_type})(ellora_lo + std::min(ellora_n, "
        "ellora_chunk * ellora_t));\n"
        f"{pad}    const {var_type} ellora_end = ({var_type})(ellora_lo + std::min(ellora_n, "
        "ellora_chunk * (ellora_t + 1)));\n"
    )
    pass_one = (
        f"{pad}    {kind} ellora_run = ellora_t == 0 ? ellora_first : {identity};\n"
        f"{pad}    for ({var_type} {var} = ellora_begin; {var} < ellora_end; ++{var}) "
        f"ellora_run = {step};\n"
        f"{pad}    ellora_blocks[ellora_t] = ellora_run;\n"
    )
    offset = (
        f"{pad}    {kind} ellora_run = ellora_first;  // the blocks before this one, in order\n"
        f"{pad}    for (long long ellora_b = 0; ellora_b < ellora_t; ++ellora_b)\n"
        f"{pad}      ellora_run = ellora_b == 0 ? ellora_blocks[0] : ({combine});\n"
    )
    pass_two = (
        f"{pad}    for ({var_type} {var} = ellora_begin; {var} < ellora_end; ++{var}) {{\n"
        f"{pad}      ellora_run = {step};\n"
        f"{pad}      {array}[{var}] = ellora_run;\n"
        f"{pad}    }}\n"
    )
    head = (
        f"{{\n{pad}typedef std::decay_t<decltype({array}[0])> {kind};\n"
        f"{pad}const {kind} ellora_first = {first};\n"
    )
    if target == "openmp":
        code = (
            head + f"{pad}std::vector<{kind}> ellora_blocks(omp_get_max_threads());\n"
            f"{pad}#pragma omp parallel\n{pad}{{\n"
            f"{pad}  const long long ellora_p = omp_get_num_threads(), "
            "ellora_t = omp_get_thread_num();\n"
            + block_range.replace(pad + "    ", pad + "  ")
            + f"{pad}  if (ellora_p > 1) {{  // pass 1: each block's own running value\n"
            + pass_one + f"{pad}  }}\n{pad}  #pragma omp barrier\n{pad}  {{\n"
            + offset + pass_two + f"{pad}  }}\n{pad}}}\n{indent}}}"
        )
    else:
        host = "Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>"
        code = (
            head + f"{pad}const long long ellora_p = "
            "Kokkos::DefaultHostExecutionSpace().concurrency();\n"
            f"{pad}std::vector<{kind}> ellora_blocks(ellora_p);\n"
            f'{pad}Kokkos::parallel_for("ellora_blocks", {host}(0, ellora_p),\n'
            f"{pad}  [&](const long long ellora_t) {{  // pass 1: each block's own running value\n"
            + block_range + pass_one + f"{pad}  }});\n"
            f'{pad}Kokkos::parallel_for("ellora_replay", {host}(0, ellora_p),\n'
            f"{pad}  [&](const long long ellora_t) {{  // pass 2: each block from its offset\n"
            + block_range + offset + pass_two + f"{pad}  }});\n{indent}}}"
        )
    code = _versioned(code, source[_byte_to_char(source, loop.start_byte):end], facts, indent)
    new_source = source[:start] + code + source[end:]
    headers = ("algorithm", "limits", "type_traits", "vector") + (("omp.h",) if target == "openmp" else ())
    for header in headers:
        new_source = _ensure_include(new_source, header)
    if target == "kokkos":
        new_source = ensure_kokkos_initialized(ensure_kokkos_include(new_source))
    if facts.overlap_check:
        new_source = _guard_includes(new_source)
    how = "OpenMP threads" if target == "openmp" else "Kokkos host chunks"
    explanation = (
        f"running {r['operator']} {array}[{var}] as a two-pass block scan on {how}: each block's "
        "own running value, block offsets combined in order with the loop's comparison, then "
        "each block replayed from its offset; " + "; ".join(facts.facts)
    )
    return new_source, explanation
