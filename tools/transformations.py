"""Verified transformations: deterministic rewrites of a loop the analysis proved parallel.

Each returns the whole new source text and an explanation; the tester still builds and
tests the result like any other candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ellora.tools.cpp_syntax import enclosing, text, walk
from ellora.tools.loop_analysis import LoopFacts, _declared_type

_KOKKOS_INCLUDE = "#include <Kokkos_Core.hpp>"


@dataclass
class Transformation:
    source: str
    explanation: str


def _indent_of(source: str, byte_offset: int) -> str:
    line_start = source.rfind("\n", 0, byte_offset) + 1
    return re.match(r"[ \t]*", source[line_start:]).group(0)


def _byte_to_char(source: str, byte_offset: int) -> int:
    return len(source.encode()[:byte_offset].decode())


def _atomic_statements(loop, facts: LoopFacts) -> list[tuple[object, str, str, str]]:
    """(statement, target, operator, value) for each update the analysis made atomic."""
    found = []
    for node in walk(loop.child_by_field_name("body")):
        if (
            node.type not in ("assignment_expression", "update_expression")
            or node.parent is None
            or node.parent.type != "expression_statement"
        ):
            continue
        if node.type == "assignment_expression":
            target, operator = node.child_by_field_name("left"), text(node.child(1))
            value = text(node.child_by_field_name("right"))
        else:
            target = node.child_by_field_name("argument")
            operator, value = ("+=" if "++" in text(node) else "-="), "1"
        array = target
        while array.type == "subscript_expression":
            array = array.child_by_field_name("argument") or array.child(0)
        if text(array) in facts.atomic_arrays:
            found.append((node.parent, text(target), operator, value))
    return found


def _edit(source: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply (start_byte, end_byte, replacement) edits, last first."""
    data = source.encode()
    for start, end, replacement in sorted(edits, reverse=True):
        data = data[:start] + replacement.encode() + data[end:]
    return data.decode()


def to_openmp(source: str, loop, facts: LoopFacts) -> Transformation:
    """Put ``#pragma omp parallel for`` with the clauses the analysis requires on the loop,
    and ``#pragma omp atomic`` on updates that iterations may share."""
    atomic_edits = []
    for statement, _, _, _ in _atomic_statements(loop, facts):
        start = _byte_to_char(source, statement.start_byte)
        indent = _indent_of(source, start)
        atomic_edits.append(
            (
                statement.start_byte,
                statement.start_byte,
                f"\n{indent}#pragma omp atomic\n{indent}"
                if source[source.rfind("\n", 0, start) + 1 : start].strip()
                else f"#pragma omp atomic\n{indent}",
            )
        )
    if atomic_edits:
        source = _edit(source, atomic_edits)
        loop = _reparse_loop(source, loop)
    clauses = ["schedule(static)"]
    for reduction in facts.reductions:
        clauses.append(f"reduction({reduction.operator}:{reduction.variable})")
    if facts.private:
        clauses.append(f"private({', '.join(facts.private)})")
    start = _byte_to_char(source, loop.start_byte)
    indent = _indent_of(source, start)
    line_start = source.rfind("\n", 0, start) + 1
    lead = "\n" + indent if source[line_start:start].strip() else ""
    pragma = f"{lead}#pragma omp parallel for {' '.join(clauses)}\n{indent}"
    new_source = source[:start] + pragma + source[start:]
    return Transformation(
        new_source,
        "OpenMP worksharing loop: "
        + "; ".join(facts.facts or ["each iteration is independent"])
        + f"; clauses: {' '.join(clauses)}",
    )


def to_kokkos(source: str, loop, facts: LoopFacts) -> Transformation:
    """Replace the loop by ``Kokkos::parallel_for``/``parallel_reduce`` over a RangePolicy."""
    if len(facts.reductions) > 1:
        raise ValueError(
            "Kokkos 3.x parallel_reduce takes one reduction variable and "
            f"this loop has {len(facts.reductions)}"
        )
    body_node = loop.child_by_field_name("body")
    atomic_edits = []
    for statement, target, operator, value in _atomic_statements(loop, facts):
        call = "atomic_add" if operator == "+=" else "atomic_sub"
        atomic_edits.append(
            (
                statement.start_byte - body_node.start_byte,
                statement.end_byte - body_node.start_byte,
                f"Kokkos::{call}(&{target}, {value});",
            )
        )
    body = _edit(text(body_node), atomic_edits)
    if body_node.type != "compound_statement":
        body = "{ " + body + " }"
    body = _declare_privates(body, loop, facts).replace("\n", "\n  ")
    index_type = facts.variable_type or "int"
    function = enclosing(loop, "function_definition")
    name = _function_name(function) or "loop"
    label = f"{name}_line{facts.start_line}"
    policy = f"Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>({facts.lower}, {facts.upper})"
    start, end = _loop_span(source, loop)
    indent = _indent_of(source, _byte_to_char(source, loop.start_byte))
    if facts.reductions:
        reduction = facts.reductions[0]
        reducer = "Kokkos::Sum" if reduction.operator == "+" else "Kokkos::Prod"
        partial = f"ellora_{reduction.variable}_partial"
        combine = "+=" if reduction.operator == "+" else "*="
        code = (
            f"{{\n{indent}  {reduction.type_name} {partial};\n"
            f'{indent}  Kokkos::parallel_reduce("{label}", {policy},\n'
            f"{indent}    KOKKOS_LAMBDA(const {index_type} {facts.variable}, "
            f"{reduction.type_name}& {reduction.variable}) {body},\n"
            f"{indent}    {reducer}<{reduction.type_name}>({partial}));\n"
            f"{indent}  {reduction.variable} {combine} {partial};\n{indent}}}"
        )
        how = f"parallel_reduce with {reducer} into {reduction.variable}"
    else:
        code = (
            f'Kokkos::parallel_for("{label}", {policy},\n'
            f"{indent}  KOKKOS_LAMBDA(const {index_type} {facts.variable}) {body});"
        )
        how = "parallel_for"
    new_source = ensure_kokkos_include(source[:start] + code + source[end:])
    new_source = ensure_kokkos_initialized(new_source)
    return Transformation(
        new_source,
        f"Kokkos {how} over a RangePolicy on the default "
        "execution space; the lambda captures the host pointers by value, "
        "so it runs on host backends (Serial, OpenMP, Threads): "
        + "; ".join(facts.facts or ["each iteration is independent"]),
    )


def _loop_span(source: str, loop) -> tuple[int, int]:
    """Character span of the loop, including an OpenMP pragma on it (a port replaces both)."""
    from ellora.tools.cpp_syntax import omp_pragma_before

    pragma = omp_pragma_before(loop)
    first = pragma if pragma is not None else loop
    return _byte_to_char(source, first.start_byte), _byte_to_char(source, loop.end_byte)


def _declare_privates(body: str, loop, facts: LoopFacts) -> str:
    if not facts.private:
        return body
    declarations = " ".join(f"{_declared_type(loop, n)} {n};" for n in facts.private)
    return "{ " + declarations + body[1:]


def _function_name(function) -> str | None:
    if function is None:
        return None
    for node in walk(function):
        if node.type == "function_declarator":
            return re.sub(r"\W", "_", text(node.child_by_field_name("declarator")))
    return None


def ensure_kokkos_include(source: str) -> str:
    """Add ``#include <Kokkos_Core.hpp>`` after the last include unless it is there."""
    if re.search(r"#\s*include\s*[<\"]Kokkos_Core\.hpp[>\"]", source):
        return source
    includes = list(re.finditer(r"^#\s*include[^\n]*\n", source, re.MULTILINE))
    position = includes[-1].end() if includes else 0
    return source[:position] + _KOKKOS_INCLUDE + "\n" + source[position:]


def ensure_kokkos_initialized(source: str) -> str:
    """A program with ``main`` gets a ``Kokkos::ScopeGuard`` at its start (if it has none)."""
    if re.search(r"Kokkos::(initialize|ScopeGuard)", source):
        return source
    match = re.search(r"\bint\s+main\s*\(([^)]*)\)\s*\{", source)
    if match is None:
        return source
    params = [p.strip() for p in match.group(1).split(",") if p.strip() and p.strip() != "void"]
    if len(params) == 2:
        argc = re.findall(r"\w+", params[0])[-1]
        argv = re.findall(r"\w+", params[1].replace("[]", ""))[-1]
        guard = f"\n  Kokkos::ScopeGuard ellora_kokkos_scope({argc}, {argv});"
    else:
        guard = "\n  Kokkos::ScopeGuard ellora_kokkos_scope;"
    return source[: match.end()] + guard + source[match.end() :]


def _reparse_loop(source: str, old_loop):
    """The loop starting on the same line in the edited source."""
    from ellora.tools.cpp_syntax import loops_in_lines, parse_cpp

    line = old_loop.start_point[0] + 1
    return loops_in_lines(parse_cpp(source), line, line + 2)[0]


MPI_TYPES = {
    "double": "MPI_DOUBLE",
    "float": "MPI_FLOAT",
    "int": "MPI_INT",
    "long": "MPI_LONG",
    "longlong": "MPI_LONG_LONG",
    "unsigned": "MPI_UNSIGNED",
    "unsignedint": "MPI_UNSIGNED",
    "std::size_t": "MPI_UNSIGNED_LONG",
    "size_t": "MPI_UNSIGNED_LONG",
    "unsignedlong": "MPI_UNSIGNED_LONG",
    "char": "MPI_CHAR",
    "short": "MPI_SHORT",
}


def _mpi_type(type_name: str) -> str:
    compact = "".join(type_name.split()).replace("const", "")
    if compact not in MPI_TYPES:
        raise ValueError(f"no MPI datatype known for element type {type_name!r}")
    return MPI_TYPES[compact]


def to_mpi(source: str, loop, facts: LoopFacts) -> Transformation:
    """Block-decompose the iterations over the ranks of MPI_COMM_WORLD; combine reductions
    with MPI_Allreduce and written arrays with an in-place MPI_Allgatherv, so every rank ends
    with the same values the serial loop computes. The caller initializes MPI."""
    from ellora.tools.loop_analysis import _element_types

    if re.search(r"\bint\s+main\s*\(", source):
        raise ValueError(
            "the MPI transformation works on a function called under an MPI "
            "harness; this file has main() (add MPI_Init/Finalize yourself)"
        )
    if facts.atomic_arrays:
        raise ValueError("updates that iterations share (atomics) have no MPI transformation yet")
    function = enclosing(loop, "function_definition")
    types = _element_types(function) if function is not None else {}
    gathers = []
    for array in facts.written_arrays:
        if array not in types:
            raise ValueError(f"cannot find the declaration of {array}")
        gathers.append(_gather_call(array, types[array], facts))
    indent = _indent_of(source, _byte_to_char(source, loop.start_byte))
    lines = [
        "{",
        "  int ellora_rank = 0, ellora_size = 1;",
        "  MPI_Comm_rank(MPI_COMM_WORLD, &ellora_rank);",
        "  MPI_Comm_size(MPI_COMM_WORLD, &ellora_size);",
        f"  const long long ellora_lo = (long long)({facts.lower});",
        f"  const long long ellora_hi = (long long)({facts.upper});",
        "  const long long ellora_n = ellora_hi > ellora_lo ? ellora_hi - ellora_lo : 0;",
    ]
    for reduction in facts.reductions:
        identity = "0" if reduction.operator == "+" else "1"
        lines += [
            f"  const {reduction.type_name} ellora_{reduction.variable}_before = "
            f"{reduction.variable};",
            f"  {reduction.variable} = {identity};",
        ]
    var_type = facts.variable_type or "long long"
    body = text(loop.child_by_field_name("body")).replace("\n", "\n  ")
    lines += [
        f"  for ({var_type} {facts.variable} = ({var_type})(ellora_lo + ellora_n * "
        "ellora_rank / ellora_size);",
        f"       {facts.variable} < ({var_type})(ellora_lo + ellora_n * (ellora_rank + 1) / "
        f"ellora_size); ++{facts.variable}) {body}",
    ]
    for reduction in facts.reductions:
        op = "MPI_SUM" if reduction.operator == "+" else "MPI_PROD"
        combine = "+" if reduction.operator == "+" else "*"
        lines += [
            f"  MPI_Allreduce(MPI_IN_PLACE, &{reduction.variable}, 1, "
            f"{_mpi_type(reduction.type_name)}, {op}, MPI_COMM_WORLD);",
            f"  {reduction.variable} = ellora_{reduction.variable}_before {combine} "
            f"{reduction.variable};",
        ]
    if gathers:
        lines += [
            "  std::vector<int> ellora_counts(ellora_size), ellora_displs(ellora_size);",
            "  for (int r = 0; r < ellora_size; ++r) {",
            "    const long long b = ellora_n * r / ellora_size;",
            "    ellora_counts[r] = (int)(ellora_n * (r + 1) / ellora_size - b);",
            "    ellora_displs[r] = (int)(ellora_lo + b);",
            "  }",
            *gathers,
        ]
    lines.append("}")
    code = ("\n" + indent).join(lines)
    start, end = _loop_span(source, loop)
    new_source = _ensure_include(
        _ensure_include(source[:start] + code + source[end:], "mpi.h"), "vector"
    )
    how = ", ".join(
        filter(
            None,
            [
                "MPI_Allreduce for " + ", ".join(r.variable for r in facts.reductions)
                if facts.reductions
                else "",
                "MPI_Allgatherv for " + ", ".join(facts.written_arrays) if gathers else "",
            ],
        )
    )
    return Transformation(
        new_source,
        "MPI block decomposition of the iterations over the ranks"
        f" ({how}); every rank ends with the full result: "
        + "; ".join(facts.facts or ["each iteration is independent"]),
    )


def _gather_call(array: str, declared: str, facts: LoopFacts) -> str:
    index = next((f for f in facts.facts if f.startswith(f"{array}[")), "")
    if not index.startswith(f"{array}[{facts.variable}]"):
        raise ValueError(
            f"the MPI transformation gathers arrays written at [{facts.variable}] "
            f"only; {array} is written otherwise"
        )
    vector = re.match(r"(?:std::)?vector<(.+)>&?$", declared)
    element, pointer = (vector.group(1), f"{array}.data()") if vector else (declared, array)
    return (
        f"  MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, {pointer}, "
        f"ellora_counts.data(), ellora_displs.data(), {_mpi_type(element)}, MPI_COMM_WORLD);"
    )


def _ensure_include(source: str, header: str) -> str:
    if re.search(rf"#\s*include\s*[<\"]{re.escape(header)}[>\"]", source):
        return source
    includes = list(re.finditer(r"^#\s*include[^\n]*\n", source, re.MULTILINE))
    position = includes[-1].end() if includes else 0
    return source[:position] + f"#include <{header}>\n" + source[position:]


TRANSFORMATIONS = {"openmp": to_openmp, "kokkos": to_kokkos, "mpi": to_mpi}
