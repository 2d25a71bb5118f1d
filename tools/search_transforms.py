"""Parallel searches: the first index where a condition holds (a loop that returns from
inside), and argmin/argmax keeping the first index. Both become min-index reductions, which
every target has: the result equals the serial loop's, ties included; the price is that the
parallel search visits every iteration instead of stopping at the first match."""

from __future__ import annotations

import re

from ellora.tools.cpp_syntax import enclosing, ensure_include
from ellora.tools.loop_analysis import LoopFacts

_OPENMP = "openmp"


def _with(expression: str, var: str, value: str) -> str:
    return re.sub(rf"\b{re.escape(var)}\b", value, expression)


def _reduction(target: str, facts: LoopFacts, label: str, accumulator: str, kind: str,
               operator: str, update: str, indent: str) -> list[str]:
    """Lines that fold ``update`` (in the loop variable and ``accumulator``) over the loop's
    range into ``accumulator`` (which holds the starting value) with ``operator``."""
    var, var_type = facts.variable, facts.variable_type or "long long"
    if target == _OPENMP:
        return [
            f"#pragma omp parallel for schedule(static) reduction({operator}:{accumulator})",
            f"for ({var_type} {var} = {facts.lower}; {var} < {facts.upper}; ++{var}) {{ {update} }}",
        ]
    if target == "kokkos":
        reducer = "Kokkos::Min" if operator == "min" else "Kokkos::Max"
        compare = "<" if operator == "min" else ">"
        return [
            "{",
            f"  {kind} ellora_result;",
            f'  Kokkos::parallel_reduce("{label}", '
            f"Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>({facts.lower}, {facts.upper}),",
            f"    KOKKOS_LAMBDA(const {var_type} {var}, {kind}& {accumulator}) {{ {update} }},",
            f"    {reducer}<{kind}>(ellora_result));",
            f"  if (ellora_result {compare} {accumulator}) {accumulator} = ellora_result;",
            "}",
        ]
    from ellora.tools.transformations import _mpi_type

    return [
        "{",
        "  int ellora_rank = 0, ellora_size = 1;",
        "  MPI_Comm_rank(MPI_COMM_WORLD, &ellora_rank);",
        "  MPI_Comm_size(MPI_COMM_WORLD, &ellora_size);",
        f"  const long long ellora_lo = (long long)({facts.lower}), "
        f"ellora_hi = (long long)({facts.upper});",
        "  const long long ellora_n = ellora_hi > ellora_lo ? ellora_hi - ellora_lo : 0;",
        f"  for ({var_type} {var} = ({var_type})(ellora_lo + ellora_n * ellora_rank / "
        f"ellora_size); {var} < ({var_type})(ellora_lo + ellora_n * (ellora_rank + 1) / "
        f"ellora_size); ++{var}) {{ {update} }}",
        f"  MPI_Allreduce(MPI_IN_PLACE, &{accumulator}, 1, {_mpi_type(kind)}, "
        f"{'MPI_MIN' if operator == 'min' else 'MPI_MAX'}, MPI_COMM_WORLD);",
        "}",
    ]


def _first_index(target, facts, label, condition: str, indent: str) -> list[str]:
    var = facts.variable
    update = (f"if (({condition}) && (long long)({var}) < ellora_first) "
              f"ellora_first = (long long)({var});")
    return [f"long long ellora_first = (long long)({facts.upper});  // none found yet",
            *_reduction(target, facts, label, "ellora_first", "long long", "min", update,
                        indent)]


def _key_type(target: str, facts: LoopFacts, function) -> str:
    """The key's type: deduced in C++, spelled out for MPI (which needs its datatype)."""
    key, var = facts.locate["key"], facts.variable
    if target != "mpi":
        return f"std::decay_t<decltype({_with(key, var, facts.locate['variable'])})>"
    from ellora.tools.loop_analysis import _element_types

    array = re.fullmatch(rf"\s*(\w+)\s*\[\s*{re.escape(var)}\s*\]\s*", key)
    types = _element_types(function) if function is not None else {}
    if array is None or array.group(1) not in types:
        raise ValueError(f"the MPI argmin/argmax needs a key of the form a[{var}]; it is {key}")
    return types[array.group(1)]


def rewrite_search(target: str, source: str, loop, facts: LoopFacts) -> tuple[str, str]:
    """(new source, explanation) for a search or locate loop on ``target``."""
    from ellora.tools.transformations import (
        _byte_to_char,
        _function_name,
        _indent_of,
        _loop_span,
        ensure_kokkos_include,
    )

    if facts.step != "1":
        raise ValueError(f"a search over {facts.variable} += {facts.step} is not transformed")
    if target == "mpi" and re.search(r"\bint\s+main\s*\(", source):
        raise ValueError("the MPI transformation works on a function called under an MPI "
                         "harness; this file has main()")
    function = enclosing(loop, "function_definition")
    label = f"{_function_name(function) or 'loop'}_line{facts.start_line}"
    indent = _indent_of(source, _byte_to_char(source, loop.start_byte))
    var = facts.variable
    if facts.search:
        var_type = facts.variable_type or "long long"
        lines = ["{", *("  " + line for line in _first_index(
            target, facts, label, facts.search["condition"], indent)),
            f"  if (ellora_first < (long long)({facts.upper})) {{",
            f"    const {var_type} {var} = ({var_type})ellora_first;",
            f"    return {facts.search['result']};",
            "  }", "}"]
        how = (f"the first {var} where {facts.search['condition']} becomes a min-index "
               "reduction (every iteration is visited; the result is the serial one)")
    else:
        best, key, operator = (facts.locate["variable"], facts.locate["key"],
                               facts.locate["operator"])
        kind = _key_type(target, facts, function)
        better = "<" if operator == "min" else ">"
        lines = [
            "{",
            f"  typedef {kind} ellora_key_t;",
            f"  const ellora_key_t ellora_start_key = {_with(key, var, best)};",
            "  ellora_key_t ellora_key = ellora_start_key;",
            *("  " + line for line in _reduction(
                target, facts, label + "_key", "ellora_key",
                kind if target == "mpi" else "ellora_key_t", operator,
                f"if ({key} {better} ellora_key) ellora_key = {key};", indent)),
            f"  if (ellora_key {better} ellora_start_key) {{  // else {best} already holds it",
            *("    " + line for line in _first_index(
                target, facts, label + "_first", f"{key} == ellora_key", indent)),
            f"    {best} = static_cast<std::decay_t<decltype({best})>>(ellora_first);",
            "  }",
            "}",
        ]
        how = (f"arg{operator} in two reductions: the {operator}imum of {key}, then the first "
               f"{var} that reaches it (the serial loop's tie-breaking)")
    code = ("\n" + indent).join(lines)
    start, end = _loop_span(source, loop)
    new_source = source[:start] + code + source[end:]
    new_source = ensure_include(new_source, "type_traits")
    if target == "kokkos":
        from ellora.tools.transformations import ensure_kokkos_initialized

        new_source = ensure_kokkos_initialized(ensure_kokkos_include(new_source))
    if target == "mpi":
        new_source = ensure_include(new_source, "mpi.h")
    return new_source, how + ": " + "; ".join(facts.facts)
