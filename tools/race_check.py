"""Static race check of OpenMP worksharing loops a model wrote: the loop under each
``#pragma omp parallel for`` is analysed like a loop to parallelize, and every shared write
the analysis finds must be covered by the pragma's clauses (reduction, private, atomic).

Races pass tests by luck on a busy machine; this check does not depend on scheduling.
"""

from __future__ import annotations

import re

from ellora.tools.cpp_syntax import parse_cpp, text, walk
from ellora.tools.loop_analysis import analyze_loop

_CLAUSE = re.compile(r"\b(reduction|private|firstprivate|lastprivate|shared)\s*\(([^)]*)\)")


def _clause_names(pragma: str) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for kind, body in _CLAUSE.findall(pragma):
        variables = body.split(":", 1)[1] if kind == "reduction" and ":" in body else body
        names.setdefault(kind, set()).update(v.strip() for v in variables.split(",") if v.strip())
    return names


def _has_atomic_before(statement) -> bool:
    previous = statement.prev_sibling
    return (
        previous is not None
        and previous.type == "preproc_call"
        and re.search(r"omp\s+(atomic|critical)", text(previous)) is not None
    )


def openmp_race_findings(source: str) -> list[tuple[str, str]]:
    """(kind, message) for each problem in ``#pragma omp parallel for`` loops: "race" for a
    shared write no clause protects, "unproven" for a dependence the analysis found."""
    findings = []
    for node in walk(parse_cpp(source).root_node):
        pragma = text(node) if node.type == "preproc_call" else ""
        if not re.search(r"#\s*pragma\s+omp\s+parallel\s+for", pragma):
            continue
        loop = node.next_named_sibling
        if loop is None or loop.type != "for_statement" or _inside_shipped_helper(loop):
            continue
        facts = analyze_loop(loop, source)
        clauses = _clause_names(pragma)
        line = loop.start_point[0] + 1
        for reduction in facts.reductions:
            if reduction.variable not in clauses.get("reduction", set()):
                findings.append(
                    (
                        "race",
                        f"line {line}: {reduction.variable} is accumulated by every "
                        f"thread without reduction({reduction.operator}:"
                        f"{reduction.variable}) (a data race)",
                    )
                )
        protected = set().union(
            *(clauses.get(k, set()) for k in ("private", "firstprivate", "lastprivate"))
        )
        for name in facts.private:
            if name not in protected:
                findings.append(
                    (
                        "race",
                        f"line {line}: {name} is shared but written by every "
                        f"thread; declare it private({name}) (a data race)",
                    )
                )
        findings += _unprotected_updates(loop, facts, line)
        if facts.refusal and not _covered(facts.refusal, clauses):
            findings.append(("unproven", f"line {line}: {facts.refusal}"))
    return findings


def _inside_shipped_helper(loop) -> bool:
    """Loops of a helper Ellora's transformations insert, word for word (the parallel sort
    on disjoint blocks, which the loop analysis cannot read; its own tests compile and run
    it). A helper someone edited is checked like any other code."""
    from ellora.tools.cpp_syntax import enclosing
    from ellora.tools.sort_transforms import shipped_helper_texts

    function = enclosing(loop, "function_definition")
    return function is not None and text(function) in shipped_helper_texts()


def _unprotected_updates(loop, facts, line: int) -> list[tuple[str, str]]:
    found = []
    for node in walk(loop.child_by_field_name("body")):
        if (
            node.type in ("assignment_expression", "update_expression")
            and node.parent
            and node.parent.type == "expression_statement"
        ):
            target = text(node).split("[")[0].lstrip("+-( ").strip()
            if target in facts.atomic_arrays and not _has_atomic_before(node.parent):
                found.append(
                    (
                        "race",
                        f"line {line}: {text(node)} may update the same element "
                        "from several threads; it needs #pragma omp atomic (a data race)",
                    )
                )
    return found


def _covered(refusal: str, clauses: dict[str, set[str]]) -> bool:
    """A refusal about a scalar the clauses make private or reduce is not a race."""
    match = re.search(r"(?:the scalar |^)(\w+) (?:carries|is accumulated)", refusal)
    if not match:
        return False
    return any(match.group(1) in names for names in clauses.values())
