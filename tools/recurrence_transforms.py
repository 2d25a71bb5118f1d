"""Running maxima and minima: ``out[i] = (i == 0 || x[i] > out[i - 1]) ? x[i] : out[i - 1]``.

The loop reads what the previous iteration wrote, so it is refused as a plain parallel
loop; but the value it carries is a running extremum, which composes across blocks: the
running value after a block started from ``r`` is ``(m > r) ? m : r``, where ``m`` is the
block's own running value started from the identity (the lowest value for a maximum). So
the loop becomes a two-pass block scan: pass 1 runs each block's recurrence on its own,
the offsets of the blocks are combined in order with the loop's own comparison, and pass 2
replays each block from its offset writing ``out``. The first block starts exactly as the
loop does (its ``i == 0`` rule or ``out[lo - 1]``), so NaNs and ties behave as in the loop.
The loop analysis recognizes the pattern (``loop_patterns.running_extremum``).
"""

from __future__ import annotations


def rewrite_recurrence(target: str, source: str, loop, facts) -> tuple[str, str]:
    """The loop as a two-pass block scan on OpenMP threads or Kokkos host chunks."""
    from ellora.tools.transformations import loop_indent, replace_loop

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
    indent = loop_indent(source, loop)
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
    headers = ("algorithm", "limits", "type_traits", "vector") + (
        ("omp.h",) if target == "openmp" else ())
    new_source = replace_loop(source, loop, facts, code, target, headers)
    how = "OpenMP threads" if target == "openmp" else "Kokkos host chunks"
    explanation = (
        f"running {r['operator']} {array}[{var}] as a two-pass block scan on {how}: each block's "
        "own running value, block offsets combined in order with the loop's comparison, then "
        "each block replayed from its offset; " + "; ".join(facts.facts)
    )
    return new_source, explanation
