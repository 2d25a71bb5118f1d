"""Running values as two-pass block scans, on OpenMP threads or Kokkos host chunks.

A running value (``s += x[i]; out[i] = s;`` or ``out[i] = out[i - 1] + x[i]``, also with max
or min) composes across blocks. Two forms:

- **scan, then fix up** when the loop stores the running value itself and nothing else
  reads it (``out[i] = s``, the recurrence's own element): pass 1 runs the loop on each
  block from the identity (block 0 from the loop's start), writes included; pass 2 combines
  the blocks before each one into its offset and folds the offset into the block's stored
  values, an independent element-wise update the compiler vectorizes. Each thread walks the
  dependence chain over its own block once, so 2 threads run about 1.4-1.6x the serial loop
  (measured); the replay below walks it twice and ran 0.8-1.0x.
- **replay** otherwise (``out[i] = f(s)``, a condition on ``s``): pass 1 computes each
  block's own running value from the identity, the offsets are combined in order, and pass
  2 replays each block from its offset, doing the loop's writes.

On one thread there is one block and the loop runs as written. Sums are reassociated (at
block boundaries in the replay, per stored element in the fix-up); max and min use the
loop's own comparison, so ties and NaNs behave as in the loop. (GCC's ``inscan`` reductions
ran 6x slower than the serial loop, measured, which is why this is not written with them.)
"""

from __future__ import annotations

from dataclasses import dataclass

from ellora.tools.loops.emit.common import Emission, LoopText, NotEmittable, pad_lines

_IDENTITY = {"+": "static_cast<{t}>(0)", "*": "static_cast<{t}>(1)",
             "max": "std::numeric_limits<{t}>::lowest()",
             "min": "std::numeric_limits<{t}>::max()"}


@dataclass(frozen=True)
class ScanCode:
    """The pieces of a block scan, in terms of ``ellora_run`` (the running value),
    ``ellora_first`` (its value before the loop) and ``ellora_blocks`` (one per block)."""

    kind: str  # the running value's type
    identity: str
    start: str  # the value before the loop
    first: str  # loop body: the block's running value only (the replay's pass 1)
    second: str  # loop body: the loop's statements, writes included
    combine: str  # ``ellora_run`` combined with ``ellora_blocks[ellora_b]``
    finish: str  # the statement leaving the final value where the loop leaves it, or ""
    fixups: str | None  # loop body folding the offset into the stored values, or None

    def combined_through(self, limit: str) -> str:
        """``ellora_run`` (holding ``ellora_first``) combined with blocks ``0 .. limit-1``."""
        return (f"for (long long ellora_b = 0; ellora_b < {limit}; ++ellora_b) {{\n"
                f"  if (ellora_b == 0) ellora_run = ellora_blocks[0]; else {{ {self.combine} }}"
                "\n}\n")


def pass_code(text: LoopText) -> ScanCode:
    """The pieces of the block scan of the loop's running value."""
    verdict = text.verdict
    if not text.header.unit_step or text.header.descending:
        raise NotEmittable("a running value over a strided or descending loop is not split")
    if verdict.scan is not None:
        return _scalar_scan(text)
    return _recurrence(text)


def _scalar_scan(text: LoopText):
    scan = text.verdict.scan
    model = text.model
    statements = model.statements
    other_writes = [a for a in model.accesses if a.writes and not _reads(a.statement,
                                                                           scan.name)]
    if other_writes:
        raise NotEmittable("the loop writes data besides the running value and its uses")
    reducers = [r.name for r in text.verdict.reducers]
    kind = scan.ctype.name if scan.ctype.kind == "scalar" else \
        f"std::decay_t<decltype({scan.name})>"
    identity = _IDENTITY[scan.operator].format(t=kind)
    first_parts, second_parts = [], []
    element = text.element_declaration()
    for statement in statements:
        if statement == scan.update:
            first_parts.append(text.rewrite(statement, {scan.name: "ellora_run"}))
            second_parts.append(text.rewrite(statement, {scan.name: "ellora_run"}))
        elif _reads(statement, scan.name) or any(_reads(statement, r) for r in reducers):
            # a use of the running value, or a reduction (accumulated once, in the pass
            # that runs the loop's statements; the caller combines it)
            second_parts.append(text.rewrite(statement, {scan.name: "ellora_run"}))
        else:
            first_parts.append(text.rewrite(statement))
            second_parts.append(text.rewrite(statement))
    first = "{ " + element + " " + " ".join(first_parts) + " }"
    second = "{ " + element + " " + " ".join(second_parts) + " }"
    combine = _combine_scalar(text, scan)
    stored = _stored_running_values(statements, scan)
    compare = ">" if scan.operator == "max" else "<"
    fixups = None if stored is None else \
        "{ " + element + " " + " ".join(_fixup(text.rewrite(target), scan.operator, compare)
                                        for target in stored) + " }"
    return ScanCode(kind, identity, scan.name, first, second, combine,
                    f"{scan.name} = ellora_run;", fixups)


def _stored_running_values(statements, scan) -> list | None:
    """The element targets of ``target = s;`` when every use of the running value besides
    its update is such a store; None when any other statement reads it (the replay form)."""
    targets = []
    for statement in statements:
        if statement == scan.update or not _reads(statement, scan.name):
            continue
        assignment = statement.named_children[0] if statement.type == "expression_statement" \
            and statement.named_children else None
        if assignment is None or assignment.type != "assignment_expression":
            return None
        left = assignment.child_by_field_name("left")
        right = assignment.child_by_field_name("right")
        operator = assignment.child_by_field_name("operator")
        if operator is None or operator.type != "=" or right is None or \
                right.type != "identifier" or right.text.decode() != scan.name or \
                left is None or left.type != "subscript_expression" or _reads(left, scan.name):
            return None
        targets.append(left)
    return targets


def _fixup(target: str, operator: str, compare: str) -> str:
    """``target`` (a block's own running value) combined after the offset ``ellora_run``."""
    if operator in ("+", "*"):
        return f"{target} = ellora_run {operator} {target};"
    return f"{target} = ({target} {compare} ellora_run) ? {target} : ellora_run;"


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
    base, var = recurrence.base, text.var
    step = recurrence_step(text)
    kind = f"ellora_{base}_t"
    identity = _IDENTITY[recurrence.operator].format(t=kind)
    lower, upper = text.header.lower_text, text.header.upper_text
    # the element before the loop is read only when the loop runs (it may not exist else)
    start = identity if recurrence.from_identity else \
        f"((long long)({upper}) > (long long)({lower})) ? {base}[({lower}) - 1] : {identity}"
    element = text.element_declaration()
    if recurrence.operator in ("+", "*"):
        combine = f"ellora_run = ellora_run {recurrence.operator} ellora_blocks[ellora_b];"
    else:  # the loop's own comparison decides, so ties and NaNs behave as in the loop
        combine = (f"ellora_run = (ellora_blocks[ellora_b] {recurrence.compare} ellora_run) ? "
                   "ellora_blocks[ellora_b] : ellora_run;")
    own = f"ellora_run = {step}; {base}[{var}] = ellora_run;"
    if recurrence.alone:
        first = "{ " + element + f" ellora_run = {step}; }}"
        second = "{ " + element + f" {own} }}"
        fixups = "{ " + _fixup(f"{base}[{var}]", recurrence.operator, recurrence.compare) + " }"
        return ScanCode(kind, identity, start, first, second, combine, "", fixups)
    # other statements read the element: pass 1 runs the declarations before it and the
    # fold; pass 2 replays the whole body (reductions combined by the caller)
    statements = text.model.statements
    index = statements.index(recurrence.statement)
    declarations = [text.rewrite(s) for s in statements[:index]]
    later = [text.rewrite(s) for s in statements[index + 1:]]
    first = " ".join(["{", element, *declarations, f"ellora_run = {step};", "}"])
    second = " ".join(["{", element, *declarations, own, *later, "}"])
    return ScanCode(kind, identity, start, first, second, combine, "", None)


def recurrence_step(text: LoopText) -> str:
    """The new element from ``ellora_run`` (the previous one), as a C++ expression; a first
    iteration with its own value is chosen by a test of the loop variable."""
    recurrence = text.verdict.recurrence
    spans = dict.fromkeys(recurrence.previous, "ellora_run")
    fold = text.rewrite(recurrence.fold.node, replace=spans)
    if recurrence.first is None:
        return fold
    first = text.rewrite(recurrence.first.node)
    return f"({text.var} == ({text.header.lower_text})) ? ({first}) : ({fold})"


def _reads(node, name: str) -> bool:
    from ellora.tools.loops.emit.common import mentions

    return node is not None and mentions(node, name)


def emit_block_scan(text: LoopText, target: str) -> Emission:
    verdict = text.verdict
    scan = pass_code(text)
    kind, identity, finish = scan.kind, scan.identity, scan.finish
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

    def offset(through: str = "ellora_t") -> str:
        return (f"{kind} ellora_run = ellora_first;  // the blocks before this one, in order\n"
                + scan.combined_through(through))

    if scan.fixups is not None:  # scan each block with its writes, then fold the offsets in
        one_thread_too = True
        first_pass = (f"{kind} ellora_run = ellora_t == 0 ? ellora_first : {identity};\n"
                      f"{loop} {scan.second}\nellora_blocks[ellora_t] = ellora_run;\n")
        second_pass = ("if (ellora_t > 0) {  // the offset folded into the block's values\n"
                       + pad_lines(offset() + f"{loop} {scan.fixups}\n") + "}\n")
        if finish:
            second_pass += ("if (ellora_t == ellora_p - 1) {\n"
                            + pad_lines(offset("ellora_t + 1") + finish + "\n") + "}\n")
    else:  # each block's own running value, then each block replayed from its offset
        one_thread_too = False
        first_pass = (f"{kind} ellora_run = ellora_t == 0 ? ellora_first : {identity};\n"
                      f"{loop} {scan.first}\nellora_blocks[ellora_t] = ellora_run;\n")
        second_pass = offset() + f"{loop} {scan.second}\n"
        if finish:
            second_pass += f"if (ellora_t == ellora_p - 1) {{ {finish} }}\n"
    head = f"{{\n{typedef}const {kind} ellora_first = {scan.start};\n"
    guard_one = "" if one_thread_too else "if (ellora_p > 1) "
    if verdict.lastprivates:
        raise NotEmittable("a value kept after a running-value loop (lastprivate) is not "
                           "split into blocks")
    if target == "openmp":
        from ellora.tools.loops.emit.openmp import clauses_of

        region = " ".join(c for c in clauses_of(verdict) if not c.startswith("schedule"))
        body = (blocks + guard_one + "{  // pass 1\n" + pad_lines(first_pass)
                + "}\n#pragma omp barrier\n{  // pass 2\n" + pad_lines(second_pass) + "}\n")
        code = (head + f"std::vector<{kind}> ellora_blocks(omp_get_max_threads());\n"
                f"#pragma omp parallel{' ' + region if region else ''}\n{{\n"
                "  const long long ellora_p = omp_get_num_threads(), "
                "ellora_t = omp_get_thread_num();\n" + pad_lines(body) + "}\n}")
        includes = ("algorithm", "limits", "type_traits", "vector", "omp.h")
        how = "OpenMP threads"
    else:
        if verdict.reducers or verdict.privates:
            raise NotEmittable("a Kokkos block scan runs the loop's statements in a "
                               "parallel_for: reductions and private scalars beside the "
                               "running value are not carried there")
        host = "Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>"
        code = (head + "const long long ellora_p = "
                "Kokkos::DefaultHostExecutionSpace().concurrency();\n"
                f"std::vector<{kind}> ellora_blocks(ellora_p);\n"
                f'{guard_one}Kokkos::parallel_for("{text.label}_blocks", {host}(0, '
                "ellora_p),\n  [&](const long long ellora_t) {  // pass 1\n"
                + pad_lines(blocks + first_pass, "    ") + "  });\n"
                f'Kokkos::parallel_for("{text.label}", {host}(0, ellora_p),\n'
                "  [&](const long long ellora_t) {  // pass 2\n"
                + pad_lines(blocks + second_pass, "    ") + "  });\n}")
        includes = ("algorithm", "limits", "type_traits", "vector")
        how = "Kokkos host chunks"
    if verdict.versioned:
        from ellora.tools.loops.emit.checks import guard_declaration

        code = ("{\n" + guard_declaration(text) + f"if ({text.guard}) " + code +
                " else " + text.original() + "\n}")
    what = verdict.scan.name if verdict.scan is not None else \
        f"{verdict.recurrence.base}[{var}]"
    start_byte, end_byte = text.span()
    how_passes = ("each block scanned from its own start, the block offsets combined in "
                  "order, then each offset folded into its block's stored values"
                  if scan.fixups is not None else
                  "each block's own running value, the block offsets combined in order, then "
                  "each block replayed from its offset")
    return Emission(
        start_byte, end_byte, text.reindent(code),
        f"running value {what} as a two-pass block scan on {how}: {how_passes}; "
        + "; ".join(verdict.facts),
        includes=includes, kokkos=target == "kokkos",
        helpers=(), apart_helper=bool(verdict.range_checks))
