"""Verified transformations: deterministic rewrites of a loop the analysis proved parallel.

Each returns the whole new source text and an explanation; the tester still builds and
tests the result like any other candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ellora.tools.cpp_syntax import after_includes, enclosing, ensure_include, text, walk
from ellora.tools.loop_analysis import LoopFacts, _declared_type
from ellora.tools.overlap import guard_declaration, guard_name
from ellora.tools.recurrence_transforms import rewrite_recurrence
from ellora.tools.scan_transforms import rewrite_openmp_scan
from ellora.tools.scatter_transforms import privatizable, rewrite_scatter
from ellora.tools.search_transforms import rewrite_search


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
    if facts.search or facts.locate:
        return Transformation(*rewrite_search("openmp", source, loop, facts))
    if privatizable(facts):
        return Transformation(*rewrite_scatter("openmp", source, loop, facts))
    if facts.recurrence:
        return Transformation(*rewrite_recurrence("openmp", source, loop, facts))
    if facts.scan and not facts.reductions:
        return Transformation(*rewrite_openmp_scan(source, loop, facts))
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
    # a triangular nest (j from i + 1) gives the first static block most of the work;
    # dealing iterations out one at a time balances it
    clauses = ["schedule(static, 1)" if facts.triangular else "schedule(static)"]
    if facts.scan:  # OpenMP 5 scan: the directive splits the body into its two phases
        update = _scan_update(loop, facts)
        directive = f"#pragma omp scan {facts.scan['kind']}({facts.scan['variable']})"
        indent = _indent_of(source, _byte_to_char(source, update.start_byte))
        where = update.end_byte if facts.scan["kind"] == "inclusive" else update.start_byte
        insert = (f"\n{indent}{directive}" if facts.scan["kind"] == "inclusive"
                  else f"{directive}\n{indent}")
        source = _edit(source, [(where, where, insert)])
        loop = _reparse_loop(source, loop)
        clauses = [f"reduction(inscan, {facts.scan['operator']}:{facts.scan['variable']})"]
    for reduction in facts.reductions:
        clauses.append(f"reduction({reduction.operator}:{reduction.variable})")
    if facts.private:
        clauses.append(f"private({', '.join(facts.private)})")
    if facts.canonical_condition:  # OpenMP needs ``i < bound``, not ``i + 1 < n``
        condition = loop.child_by_field_name("condition")
        source = _edit(source, [(condition.start_byte, condition.end_byte,
                                 facts.canonical_condition)])
        loop = _reparse_loop(source, loop)
    guard = ""
    if facts.overlap_check:
        clauses.append(f"if({guard_name(facts)})")
    start = _byte_to_char(source, loop.start_byte)
    indent = _indent_of(source, start)
    if facts.overlap_check:
        guard = guard_declaration(facts.overlap_check, guard_name(facts), indent) + indent
    line_start = source.rfind("\n", 0, start) + 1
    lead = "\n" + indent if source[line_start:start].strip() else ""
    pragma = f"{lead}{guard}#pragma omp parallel for {' '.join(clauses)}\n{indent}"
    end = _byte_to_char(source, loop.end_byte)
    if guard and (loop.parent is None or loop.parent.type != "compound_statement"):
        new_source = source[:start] + "{\n" + indent + pragma + source[start:end] + "\n" + (
            indent + "}" + source[end:])
    else:
        new_source = source[:start] + pragma + source[start:]
    if guard:
        new_source = _guard_includes(new_source)
    return Transformation(
        new_source,
        "OpenMP worksharing loop: "
        + "; ".join(facts.facts or ["each iteration is independent"])
        + f"; clauses: {' '.join(clauses)}",
    )


KOKKOS_REDUCERS = {"+": "Kokkos::Sum", "*": "Kokkos::Prod", "max": "Kokkos::Max",
                   "min": "Kokkos::Min"}


def _scan_update(loop, facts: LoopFacts):
    """The top-level ``s += e;`` statement of a scan loop."""
    name = facts.scan["variable"]
    for statement in loop.child_by_field_name("body").named_children:
        expression = statement.named_children[0] if statement.named_children else None
        if (
            statement.type == "expression_statement"
            and expression is not None
            and expression.type == "assignment_expression"
            and text(expression.child_by_field_name("left")) == name
        ):
            return statement
    raise ValueError(f"cannot find the update of the scan variable {name}")


def _scan_body(loop, facts: LoopFacts, partial: str, value: str, final: str | None) -> str:
    """The loop body for a scan pass: the update goes to ``partial``; statements that read
    the running value see ``value`` and run only when ``final`` (dropped when None)."""
    name = facts.scan["variable"]
    update = _scan_update(loop, facts)
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    parts = []
    for statement in loop.child_by_field_name("body").named_children:
        code = text(statement)
        if statement == update:
            parts.append(pattern.sub(partial, code, count=1))
        elif pattern.search(code):
            if final is not None:
                parts.append(f"if ({final}) {{ {pattern.sub(value, code)} }}")
        else:
            parts.append(code)
    return "{\n  " + "\n  ".join(parts) + "\n}"


def _combine(variable: str, partial: str, operator: str) -> str:
    """Fold a reducer's result into the variable's value from before the loop."""
    if operator == "+":
        return f"{variable} += {partial};"
    if operator == "*":
        return f"{variable} *= {partial};"
    compare = ">" if operator == "max" else "<"
    return f"if ({partial} {compare} {variable}) {variable} = {partial};"


def _versioned(code: str, loop_text: str, facts: LoopFacts, indent: str,
               mpi: bool = False) -> str:
    """Parallel code behind the run-time overlap test, the original loop otherwise. Under
    MPI every rank must take the same branch, so the ranks agree on the test first."""
    if not facts.overlap_check:
        return code
    name = guard_name(facts)
    test = name
    agree = ""
    if mpi:
        test = "ellora_all_disjoint"
        agree = (
            f"{indent}  int ellora_all_disjoint = {name} ? 1 : 0;\n"
            f"{indent}  MPI_Allreduce(MPI_IN_PLACE, &ellora_all_disjoint, 1, MPI_INT, MPI_LAND, "
            "MPI_COMM_WORLD);\n"
        )
    return (
        "{\n" + indent + "  "
        + guard_declaration(facts.overlap_check, name, indent + "  ")
        + agree
        + f"{indent}  if ({test}) {{\n{indent}    "
        + code.replace("\n", "\n    ")
        + f"\n{indent}  }} else {{\n{indent}    "
        + loop_text.replace("\n", "\n    ")
        + f"\n{indent}  }}\n{indent}}}"
    )


def to_kokkos(source: str, loop, facts: LoopFacts) -> Transformation:
    """Replace the loop by ``Kokkos::parallel_for``/``parallel_reduce`` over a RangePolicy."""
    if facts.search or facts.locate:
        return Transformation(*rewrite_search("kokkos", source, loop, facts))
    if privatizable(facts):
        return Transformation(*rewrite_scatter("kokkos", source, loop, facts))
    if facts.recurrence:
        return Transformation(*rewrite_recurrence("kokkos", source, loop, facts))
    body_node = loop.child_by_field_name("body")
    atomic_edits = []
    for statement, target, operator, value in _atomic_statements(loop, facts):
        call = "atomic_add" if operator == "+=" else "atomic_sub"
        atomic_edits.append(
            (
                statement.start_byte - body_node.start_byte,
                statement.end_byte - body_node.start_byte,
                f"Kokkos::{call}(&{target}, "
                f"static_cast<std::decay_t<decltype({target})>>({value}));",
            )
        )
    body = _edit(text(body_node), atomic_edits)
    function = enclosing(loop, "function_definition")
    body, vector_pointers = _vectors_through_pointers(body, function)
    if body_node.type != "compound_statement":
        body = "{ " + body + " }"
    body = _declare_privates(body, loop, facts).replace("\n", "\n  ")
    index_type = facts.variable_type or "int"
    name = _function_name(function) or "loop"
    label = f"{name}_line{facts.start_line}"
    schedule = ", Kokkos::Schedule<Kokkos::Dynamic>" if facts.triangular else ""
    first, last = facts.lower, facts.upper
    if facts.step != "1":  # i = lower + m * step for m in [0, count)
        if facts.scan:
            raise ValueError("a scan over a strided loop has no Kokkos transformation")
        first, last = "0", (f"(({facts.upper}) > ({facts.lower}) ? (({facts.upper}) - "
                            f"({facts.lower}) + ({facts.step}) - 1) / ({facts.step}) : 0)")
        body = (f"{{ const {index_type} {facts.variable} = ({index_type})(({facts.lower}) + "
                f"ellora_m * ({facts.step}));" + body[1:])
        index_type, loop_variable = "long long", "ellora_m"
    else:
        loop_variable = facts.variable
    policy = (f"Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace{schedule}>"
              f"({first}, {last})")
    start, end = _loop_span(source, loop)
    indent = _indent_of(source, _byte_to_char(source, loop.start_byte))
    if facts.scan and facts.reductions:
        raise ValueError("a scan and a reduction in one loop: split the loop")
    if facts.scan:
        name, kind = facts.scan["variable"], facts.scan["type_name"]
        start_value, partial = f"ellora_{name}_start", f"ellora_{name}_partial"
        scan_body = _scan_body(loop, facts, partial, f"({start_value} + {partial})",
                               "ellora_final")
        scan_body, extra = _vectors_through_pointers(scan_body, function)
        vector_pointers += [d for d in extra if d not in vector_pointers]
        scan_body = _declare_privates(scan_body, loop, facts).replace("\n", f"\n{indent}  ")
        code = (
            f"{{\n{indent}  const {kind} {start_value} = {name};\n"
            f"{indent}  {kind} ellora_{name}_total = 0;\n"
            f'{indent}  Kokkos::parallel_scan("{label}", {policy},\n'
            f"{indent}    KOKKOS_LAMBDA(const {index_type} {facts.variable}, {kind}& {partial}, "
            f"const bool ellora_final) {scan_body},\n"
            f"{indent}    ellora_{name}_total);\n"
            f"{indent}  {name} = {start_value} + ellora_{name}_total;\n{indent}}}"
        )
        how = f"parallel_scan ({facts.scan['kind']}) of {name}"
    elif facts.reductions:
        partials = [f"ellora_{r.variable}_partial" for r in facts.reductions]
        declarations = "".join(
            f"{indent}  {r.type_name} {p};\n" for r, p in zip(facts.reductions, partials)
        )
        arguments = ", ".join(f"{r.type_name}& {r.variable}" for r in facts.reductions)
        if not re.search(r"\b(return|continue|goto)\b", body):
            arguments = ", ".join(f"{r.type_name}& ellora_{r.variable}_update"
                                  for r in facts.reductions)
            body = _with_local_reducers(body, facts.reductions)
        reducers = ", ".join(
            f"{KOKKOS_REDUCERS[r.operator]}<{r.type_name}>({p})"
            for r, p in zip(facts.reductions, partials)
        )
        combines = "".join(
            f"{indent}  {_combine(r.variable, p, r.operator)}\n"
            for r, p in zip(facts.reductions, partials)
        )
        code = (
            f"{{\n{declarations}"
            f'{indent}  Kokkos::parallel_reduce("{label}", {policy},\n'
            f"{indent}    KOKKOS_LAMBDA(const {index_type} {loop_variable}, "
            f"{arguments}) {body},\n"
            f"{indent}    {reducers});\n"
            f"{combines}{indent}}}"
        )
        how = "parallel_reduce with " + ", ".join(
            f"{KOKKOS_REDUCERS[r.operator]} into {r.variable}" for r in facts.reductions
        )
    else:
        code = (
            f'Kokkos::parallel_for("{label}", {policy},\n'
            f"{indent}  KOKKOS_LAMBDA(const {index_type} {loop_variable}) {body});"
        )
        how = "parallel_for"
    if vector_pointers:  # the lambda copies what it captures: reach vectors through .data()
        code = "{\n" + "".join(f"{indent}  {d}\n" for d in vector_pointers) + (
            f"{indent}  " + code.replace("\n", "\n  ") + f"\n{indent}}}")
    code = _versioned(code, source[_byte_to_char(source, loop.start_byte):end], facts, indent)
    new_source = ensure_kokkos_include(source[:start] + code + source[end:])
    if atomic_edits:
        new_source = ensure_include(new_source, "type_traits")
    new_source = ensure_kokkos_initialized(new_source)
    if facts.overlap_check:
        new_source = _guard_includes(new_source)
    return Transformation(
        new_source,
        f"Kokkos {how} over a RangePolicy on the default "
        "execution space; the lambda captures the host pointers by value, "
        "so it runs on host backends (Serial, OpenMP, Threads): "
        + "; ".join(facts.facts or ["each iteration is independent"]),
    )


def _with_local_reducers(body: str, reductions) -> str:
    """``{ T v = ellora_v_update; <body> ellora_v_update = v; }``: a local copy of each reducer
    value, which the compiler keeps in a register, so it can vectorize or if-convert
    ``if (c) count += 1`` as in the serial loop (it may not on the reference itself)."""
    inner = re.search(r"\n([ \t]*)\S", body)
    pad = inner.group(1) if inner else "  "
    statements = body.strip()[1:-1].strip("\n").rstrip()
    closing_pad = pad[:-2] if len(pad) >= 2 else ""
    return (
        "{\n"
        + "".join(f"{pad}{r.type_name} {r.variable} = ellora_{r.variable}_update;\n"
                  for r in reductions)
        + (statements + "\n" if statements.strip() else "")
        + "".join(f"{pad}ellora_{r.variable}_update = {r.variable};\n" for r in reductions)
        + closing_pad + "}"
    )


def _vectors_through_pointers(body: str, function) -> tuple[str, list[str]]:
    """Subscripts of std::vector names rewritten to go through a pointer to the data (a
    KOKKOS_LAMBDA captures by value: a vector would be copied, and its copy is const)."""
    from ellora.tools.loop_analysis import _element_types

    declarations = []
    types = _element_types(function) if function is not None else {}
    for name, declared in types.items():
        vector = re.match(r"(?:std::)?vector<(.+)>&?$", declared)
        pattern = rf"(?<![\w.>]){re.escape(name)}(\s*\[)"
        if vector is None or not re.search(pattern, body):
            continue
        body = re.sub(pattern, rf"ellora_{name}_data\1", body)
        declarations.append(f"{vector.group(1)}* const ellora_{name}_data = {name}.data();")
    return body, declarations


def _loop_span(source: str, loop) -> tuple[int, int]:
    """Character span of the loop, including an OpenMP pragma on it (a port replaces both)."""
    from ellora.tools.cpp_syntax import omp_pragma_before

    pragma = omp_pragma_before(loop)
    first = pragma if pragma is not None else loop
    return _byte_to_char(source, first.start_byte), _byte_to_char(source, loop.end_byte)


def loop_indent(source: str, loop) -> str:
    """The indentation of the line the loop starts on."""
    return _indent_of(source, _byte_to_char(source, loop.start_byte))


def replace_loop(source: str, loop, facts: LoopFacts, code: str, target: str,
                 headers: tuple[str, ...] = (), helper: str = "") -> str:
    """The source with the loop (and a pragma on it) replaced by ``code``, behind the
    run-time overlap test when the analysis asked for one; with ``headers`` included, a
    ``helper`` definition after the includes (once), and Kokkos included and initialized
    for the Kokkos target."""
    start, end = _loop_span(source, loop)
    original = source[_byte_to_char(source, loop.start_byte):end]
    code = _versioned(code, original, facts, loop_indent(source, loop))
    new_source = source[:start] + code + source[end:]
    for header in headers:
        new_source = ensure_include(new_source, header)
    if helper and helper not in new_source:
        new_source = after_includes(new_source, "\n" + helper)
    if target == "kokkos":
        new_source = ensure_kokkos_initialized(ensure_kokkos_include(new_source))
    if facts.overlap_check:
        new_source = _guard_includes(new_source)
    return new_source


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
    return ensure_include(source, "Kokkos_Core.hpp")


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
    if facts.step != "1":
        raise ValueError(f"{facts.variable} steps by {facts.step}: strided loops are not "
                         "decomposed over MPI ranks")
    if facts.search or facts.locate:
        return Transformation(*rewrite_search("mpi", source, loop, facts))
    if facts.recurrence:
        return Transformation(*rewrite_recurrence("mpi", source, loop, facts))
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
        if reduction.operator in ("max", "min"):
            continue  # idempotent: each rank starts from the value before the loop
        identity = "0" if reduction.operator == "+" else "1"
        lines += [
            f"  const {reduction.type_name} ellora_{reduction.variable}_before = "
            f"{reduction.variable};",
            f"  {reduction.variable} = {identity};",
        ]
    var_type = facts.variable_type or "long long"
    body = text(loop.child_by_field_name("body")).replace("\n", "\n  ")
    block = (
        f"  for ({var_type} {facts.variable} = ({var_type})(ellora_lo + ellora_n * "
        "ellora_rank / ellora_size);\n"
        f"       {facts.variable} < ({var_type})(ellora_lo + ellora_n * (ellora_rank + 1) / "
        f"ellora_size); ++{facts.variable}) "
    )
    if facts.scan:  # local sums, an exclusive scan of them over the ranks, then the block
        name, kind = facts.scan["variable"], facts.scan["type_name"]
        mpi_kind = _mpi_type(kind)
        local = f"ellora_{name}_local"
        sums = _scan_body(loop, facts, local, "", None).replace("\n", "\n  ")
        lines += [
            f"  const {kind} ellora_{name}_start = {name};",
            f"  {kind} {local} = 0, ellora_{name}_offset = 0;",
            block + sums,
            f"  MPI_Exscan(&{local}, &ellora_{name}_offset, 1, {mpi_kind}, MPI_SUM, "
            "MPI_COMM_WORLD);",
            f"  if (ellora_rank == 0) ellora_{name}_offset = 0;",
            f"  {name} = ellora_{name}_start + ellora_{name}_offset;",
        ]
    lines.append(block + body)
    if facts.scan:
        lines += [
            f"  MPI_Allreduce(MPI_IN_PLACE, &{local}, 1, {mpi_kind}, MPI_SUM, MPI_COMM_WORLD);",
            f"  {name} = ellora_{name}_start + {local};",
        ]
    for reduction in facts.reductions:
        op = {"+": "MPI_SUM", "*": "MPI_PROD", "max": "MPI_MAX", "min": "MPI_MIN"}[
            reduction.operator
        ]
        lines.append(
            f"  MPI_Allreduce(MPI_IN_PLACE, &{reduction.variable}, 1, "
            f"{_mpi_type(reduction.type_name)}, {op}, MPI_COMM_WORLD);"
        )
        if reduction.operator in ("+", "*"):
            lines.append(
                f"  {reduction.variable} = ellora_{reduction.variable}_before "
                f"{reduction.operator} {reduction.variable};"
            )
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
    code = _versioned(code, source[_byte_to_char(source, loop.start_byte):end], facts, indent,
                      mpi=True)
    new_source = ensure_include(
        ensure_include(source[:start] + code + source[end:], "mpi.h"), "vector"
    )
    if facts.overlap_check:
        new_source = _guard_includes(new_source)
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
    """In-place MPI_Allgatherv of the blocks the ranks wrote: elements [i] or whole rows
    [i*E + j] (0 <= j < E, proved by the injectivity analysis)."""
    fact = next((f for f in facts.facts if f.startswith(f"{array}[")), "")
    index = fact[len(array) + 1 : fact.find("]")]
    var = re.escape(facts.variable)
    row = re.fullmatch(
        rf"(?:{var}\*(?P<a>[^+]+)|(?P<b>[^+]+)\*{var})\+(?P<j>[A-Za-z_]\w*)", index
    )
    if index != facts.variable and not (row and row.group("j") != facts.variable):
        raise ValueError(
            f"the MPI transformation gathers arrays written at [{facts.variable}] or by "
            f"rows [{facts.variable}*n+j]; {array} is written at [{index}]"
        )
    vector = re.match(r"(?:std::)?vector<(.+)>&?$", declared)
    element, pointer = (vector.group(1), f"{array}.data()") if vector else (declared, array)
    if index == facts.variable:
        return (
            f"  MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, {pointer}, "
            f"ellora_counts.data(), ellora_displs.data(), {_mpi_type(element)}, "
            "MPI_COMM_WORLD);"
        )
    extent = row.group("a") or row.group("b")
    return "\n".join([
        "  {",
        f"    const long long ellora_row = (long long)({extent});",
        "    std::vector<int> ellora_rcounts(ellora_size), ellora_rdispls(ellora_size);",
        "    for (int r = 0; r < ellora_size; ++r) {",
        "      ellora_rcounts[r] = (int)(ellora_counts[r] * ellora_row);",
        "      ellora_rdispls[r] = (int)(ellora_displs[r] * ellora_row);",
        "    }",
        f"    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, {pointer}, "
        f"ellora_rcounts.data(), ellora_rdispls.data(), {_mpi_type(element)}, MPI_COMM_WORLD);",
        "  }",
    ])


def _guard_includes(source: str) -> str:
    from ellora.tools.overlap import with_apart_helper

    for header in ("algorithm", "cstdint", "initializer_list", "limits", "type_traits"):
        source = ensure_include(source, header)
    return with_apart_helper(source)


TRANSFORMATIONS = {"openmp": to_openmp, "kokkos": to_kokkos, "mpi": to_mpi}
