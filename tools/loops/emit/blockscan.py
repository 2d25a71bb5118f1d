"""Running values as two-pass block scans, on OpenMP threads or Kokkos host chunks.

A running value (``s += x[i]; out[i] = s;`` or ``out[i] = out[i - 1] + x[i]``, also with max
or min) composes across blocks: pass 1 computes each block's own running value from the
identity, the offsets of the blocks are combined in order, and pass 2 replays each block
from its offset, doing the loop's writes. On one thread pass 1 is skipped, so the loop runs
as written. Sums are reassociated at block boundaries; max and min use the loop's own
comparison, so ties and NaNs behave as in the loop. (GCC's ``inscan`` reductions ran 6x
slower than the serial loop, measured, which is why this is not written with them.)
"""

from __future__ import annotations

from ellora.tools.loops.emit.common import Emission, LoopText, NotEmittable, pad_lines

_IDENTITY = {"+": "static_cast<{t}>(0)", "*": "static_cast<{t}>(1)",
             "max": "std::numeric_limits<{t}>::lowest()",
             "min": "std::numeric_limits<{t}>::max()"}


def _pass_code(text: LoopText) -> tuple[str, str, str, str, str]:
    """(type, identity, start value, pass-1 body, pass-2 body) in ``ellora_run``."""
    verdict = text.verdict
    if not text.header.unit_step or text.header.descending:
        raise NotEmittable("a running value over a strided or descending loop is not split")
    if verdict.scan is not None:
        return _scalar_scan(text)
    return _recurrence(text)


def _scalar_scan(text: LoopText):
    scan = text.verdict.scan
    model = text.model
    statements = [c for c in model.body.named_children if c.type != "comment"]
    other_writes = [a for a in model.accesses if a.writes and not _reads(a.statement,
                                                                           scan.name)]
    if other_writes or text.verdict.reducers:
        raise NotEmittable("the loop writes data besides the running value and its uses")
    kind = scan.ctype.name if scan.ctype.kind == "scalar" else \
        f"std::decay_t<decltype({scan.name})>"
    identity = _IDENTITY[scan.operator].format(t=kind)
    first_parts, second_parts = [], []
    element = text.element_declaration()
    for statement in statements:
        if statement == scan.update:
            first_parts.append(text.rewrite(statement, {scan.name: "ellora_run"}))
            second_parts.append(text.rewrite(statement, {scan.name: "ellora_run"}))
        elif _reads(statement, scan.name):
            second_parts.append(text.rewrite(statement, {scan.name: "ellora_run"}))
        else:
            first_parts.append(text.rewrite(statement))
            second_parts.append(text.rewrite(statement))
    first = "{ " + element + " " + " ".join(first_parts) + " }"
    second = "{ " + element + " " + " ".join(second_parts) + " }"
    combine = _combine_scalar(text, scan)
    return kind, identity, scan.name, first, second, combine, f"{scan.name} = ellora_run;"


def _combine_scalar(text: LoopText, scan) -> str:
    """``ellora_run = op(ellora_run, ellora_blocks[b])`` in the loop's own form."""
    if scan.operator == "+":
        return "ellora_run += ellora_blocks[ellora_b];"
    if scan.operator == "*":
        return "ellora_run *= ellora_blocks[ellora_b];"
    compare = ">" if scan.operator == "max" else "<"
    return f"if (ellora_blocks[ellora_b] {compare} ellora_run) ellora_run = " \
           "ellora_blocks[ellora_b];"


def _recurrence(text: LoopText):
    recurrence = text.verdict.recurrence
    model = text.model
    base, var = recurrence.base, text.var
    previous = [a for a in model.accesses if a.base == base and not a.writes]
    write = recurrence.statement
    assignment = write.named_children[0]
    value = assignment.child_by_field_name("right")
    spans = {(a.node.start_byte, a.node.end_byte): "ellora_run" for a in previous}
    step = text.rewrite(value, replace=spans)
    kind = f"ellora_{base}_t"
    identity = _IDENTITY[recurrence.operator].format(t=kind)
    start = identity if recurrence.first_rule else f"{base}[({text.header.lower_text}) - 1]"
    element = text.element_declaration()
    first = "{ " + element + f" ellora_run = {step}; }}"
    second = "{ " + element + f" ellora_run = {step}; {base}[{var}] = ellora_run; }}"
    if recurrence.operator in ("+", "*"):
        combine = f"ellora_run = ellora_run {recurrence.operator} ellora_blocks[ellora_b];"
    else:  # the loop's own comparison decides, so ties and NaNs behave as in the loop
        combine = (f"ellora_run = (ellora_blocks[ellora_b] {recurrence.compare} ellora_run) ? "
                   "ellora_blocks[ellora_b] : ellora_run;")
    return kind, identity, start, first, second, combine, ""


def _reads(node, name: str) -> bool:
    from ellora.tools.loops.emit.common import mentions

    return node is not None and mentions(node, name)


def emit_block_scan(text: LoopText, target: str) -> Emission:
    verdict = text.verdict
    kind, identity, start, first, second, combine, finish = _pass_code(text)
    var, var_type = text.var, text.var_type
    typedef = ""
    if verdict.recurrence is not None:
        typedef = f"typedef std::decay_t<decltype({verdict.recurrence.base}[0])> {kind};\n"
    blocks = (
        f"const long long ellora_lo = (long long)({text.header.lower_text}), "
        f"ellora_hi = (long long)({text.header.upper_text});\n"
        "const long long ellora_n = ellora_hi > ellora_lo ? ellora_hi - ellora_lo : 0;\n"
        "const long long ellora_chunk = (ellora_n + ellora_p - 1) / ellora_p;\n"
        f"const {var_type} ellora_begin = ({var_type})(ellora_lo + std::min(ellora_n, "
        "ellora_chunk * ellora_t));\n"
        f"const {var_type} ellora_end = ({var_type})(ellora_lo + std::min(ellora_n, "
        "ellora_chunk * (ellora_t + 1)));\n")
    loop = f"for ({var_type} {var} = ellora_begin; {var} < ellora_end; ++{var})"
    pass_one = (f"{kind} ellora_run = ellora_t == 0 ? ellora_first : {identity};\n"
                f"{loop} {first}\nellora_blocks[ellora_t] = ellora_run;\n")
    offset = (f"{kind} ellora_run = ellora_first;  // the blocks before this one, in order\n"
              "for (long long ellora_b = 0; ellora_b < ellora_t; ++ellora_b) {\n"
              f"  if (ellora_b == 0) ellora_run = ellora_blocks[0]; else {{ {combine} }}\n}}\n")
    pass_two = f"{loop} {second}\n"
    last = f"if (ellora_t == ellora_p - 1) {{ {finish} }}\n" if finish else ""
    head = f"{{\n{typedef}const {kind} ellora_first = {start};\n"
    if target == "openmp":
        body = (blocks + "if (ellora_p > 1) {  // pass 1: each block's own running value\n"
                + pad_lines(pass_one) + "}\n#pragma omp barrier\n{\n"
                + pad_lines(offset + pass_two + last) + "}\n")
        code = (head + f"std::vector<{kind}> ellora_blocks(omp_get_max_threads());\n"
                "#pragma omp parallel\n{\n"
                "  const long long ellora_p = omp_get_num_threads(), "
                "ellora_t = omp_get_thread_num();\n" + pad_lines(body) + "}\n}")
        includes = ("algorithm", "limits", "type_traits", "vector", "omp.h")
        how = "OpenMP threads"
    else:
        host = "Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>"
        code = (head + "const long long ellora_p = "
                "Kokkos::DefaultHostExecutionSpace().concurrency();\n"
                f"std::vector<{kind}> ellora_blocks(ellora_p);\n"
                f'if (ellora_p > 1) Kokkos::parallel_for("{text.label}_blocks", {host}(0, '
                "ellora_p),\n  [&](const long long ellora_t) {  // pass 1\n"
                + pad_lines(blocks + pass_one, "    ") + "  });\n"
                f'Kokkos::parallel_for("{text.label}", {host}(0, ellora_p),\n'
                "  [&](const long long ellora_t) {  // pass 2: each block from its offset\n"
                + pad_lines(blocks + offset + pass_two + last, "    ") + "  });\n}")
        includes = ("algorithm", "limits", "type_traits", "vector")
        how = "Kokkos host chunks"
    if verdict.versioned:
        from ellora.tools.loops.emit.checks import guard_declaration

        code = ("{\n" + guard_declaration(text) + f"if ({text.guard}) " + code +
                " else " + text.original() + "\n}")
    what = verdict.scan.name if verdict.scan is not None else \
        f"{verdict.recurrence.base}[{var}]"
    start_byte, end_byte = text.span()
    return Emission(
        start_byte, end_byte, text.reindent(code),
        f"running value {what} as a two-pass block scan on {how}: each block's own running "
        "value, the block offsets combined in order, then each block replayed from its "
        "offset; " + "; ".join(verdict.facts),
        includes=includes, kokkos=target == "kokkos",
        helpers=(), apart_helper=bool(verdict.range_checks))
