"""Static race check of OpenMP worksharing loops: the loop under each
``#pragma omp parallel for`` is decided like a loop to parallelize, and every shared write
the verdict names must be covered by the pragma's clauses (reduction, private, atomic).

Races pass tests by luck on a busy machine; this check does not depend on scheduling.
"""

from __future__ import annotations

import re

_CLAUSE = re.compile(r"\b(reduction|private|firstprivate|lastprivate|shared)\s*\(([^)]*)\)")


def _clause_names(pragma: str) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for kind, body in _CLAUSE.findall(pragma):
        variables = body.split(":", 1)[1] if kind == "reduction" and ":" in body else body
        names.setdefault(kind, set()).update(  # an array section a[:n] names a
            re.sub(r"\[.*$", "", v.strip()) for v in variables.split(",") if v.strip())
    return names


def _has_atomic_before(statement) -> bool:
    previous = statement.prev_sibling
    return (previous is not None and previous.type == "preproc_call"
            and re.search(r"omp\s+(atomic|critical)", previous.text.decode()) is not None)


def openmp_race_findings(source: str) -> list[tuple[str, str]]:
    """(kind, message) for each problem in ``#pragma omp parallel for`` loops: "race" for a
    shared write no clause protects, "unproven" for a dependence the rules found."""
    from ellora.tools.loops.cpp import CppSource, walk
    from ellora.tools.loops.cpp.header import NotCounted
    from ellora.tools.loops.legality import decide

    parsed = CppSource(source)
    findings = []
    for node in walk(parsed.tree.root_node):
        pragma = node.text.decode() if node.type == "preproc_call" else ""
        if not re.search(r"#\s*pragma\s+omp\s+parallel\s+for", pragma):
            continue
        loop = node.next_named_sibling
        if loop is None or loop.type not in ("for_statement", "for_range_loop") or \
                _inside_shipped_helper(loop):
            continue
        line = loop.start_point[0] + 1
        try:
            verdict = decide(parsed.loop_model(loop))
        except NotCounted as why:
            findings.append(("unproven", f"line {line}: not a counted loop: {why}"))
            continue
        clauses = _clause_names(pragma)
        for reducer in verdict.reducers:
            if reducer.name not in clauses.get("reduction", set()):
                findings.append(("race", (
                    f"line {line}: {reducer.name} is accumulated by every thread without "
                    f"reduction({reducer.operator}:{reducer.name}) (a data race)")))
        protected = set().union(*(clauses.get(k, set()) for k in
                                  ("private", "firstprivate", "lastprivate")))
        for name in verdict.privates + verdict.lastprivates:
            if name in verdict.lastprivates and name in clauses.get("private", set()) and \
                    name not in clauses.get("lastprivate", set()):
                findings.append(("race", (
                    f"line {line}: {name} is read after the loop, but private({name}) leaves "
                    f"it undefined there; lastprivate({name}) keeps the last iteration's value")))
                continue
            if name not in protected:
                findings.append(("race", (
                    f"line {line}: {name} is shared but written by every thread; declare it "
                    f"private({name}) (a data race)")))
        for scatter in verdict.scatters:
            if scatter.base in clauses.get("reduction", set()):
                continue  # an array-section reduction: each thread adds into its own copy
            for access in verdict.loop.accesses_of(scatter.base):
                if access.statement is not None and not _has_atomic_before(access.statement):
                    findings.append(("race", (
                        f"line {line}: {' '.join(access.statement.text.decode().split())} may "
                        "update the same element from several threads; it needs "
                        "#pragma omp atomic (a data race)")))
        findings += _own_forms(verdict, clauses, line)
        findings += _shared_words(verdict, pragma, line)
        dependence = verdict.dependence
        if dependence is not None and not (
                dependence.kind == "carried_scalar" and
                any(dependence.subject in names for names in clauses.values())):
            findings.append(("unproven", f"line {line}: {dependence}"))
    return findings


_SCHEDULE = re.compile(r"\bschedule\s*\(\s*(\w+)\s*(?:,\s*([^)]*?))?\s*\)")


def _shared_words(verdict, pragma: str, line: int) -> list[tuple[str, str]]:
    """A ``std::vector<bool>`` packs its elements into words: two threads writing elements of
    one word both read, modify and write the whole word, so each thread must own whole words.
    Only chunks that are a multiple of the word size, dealt out whole (``static`` or
    ``dynamic``), guarantee that (the legality rules already require the loop to start at
    bit 0 with unit steps); ``static`` without a chunk splits the range wherever the thread
    count falls, ``guided`` chunks shrink to any size."""
    if not verdict.word_blocks:
        return []
    found = _SCHEDULE.search(pragma)
    chunk = found.group(2) if found and found.group(1) in ("static", "dynamic") else None
    if chunk is not None and chunk.isdigit() and int(chunk) % verdict.word_blocks == 0:
        return []
    bases = verdict.loop.bases
    written = ", ".join(sorted({owned.base for owned in verdict.owned if owned.base in bases
                                and bases[owned.base].ctype.kind == "bool_vector"}))
    return [("race", (
        f"line {line}: {written} is a std::vector<bool>: neighbouring elements share a "
        f"{verdict.word_blocks}-bit word, and threads that write parts of one word race; give "
        f"each thread whole words with schedule(static, {verdict.word_chunk})"))]


def _own_forms(verdict, clauses: dict[str, set[str]], line: int) -> list[tuple[str, str]]:
    """Patterns a plain worksharing loop gets wrong whatever its clauses: an argmin, a last
    match, a running value read by the iteration, a recurrence through the array."""
    found = []
    if verdict.locate is not None:
        what = "the last match" if verdict.locate.operator == "last_match" else \
            f"an arg{verdict.locate.operator}"
        found.append(("race", (
            f"line {line}: {verdict.locate.index} keeps {what}: every thread writes it, and "
            "which write lands last depends on the schedule (it needs a min/max-index "
            "reduction)")))
    if verdict.scan is not None:
        found.append(("race", (
            f"line {line}: {verdict.scan.name} is a running value read by each iteration: a "
            "reduction only gives the total, each iteration needs the prefix before it (a "
            "scan)")))
    if verdict.recurrence is not None:
        found.append(("race", (
            f"line {line}: {verdict.recurrence.base}[i] is computed from "
            f"{verdict.recurrence.base}[i - 1], another thread's element (a scan)")))
    return found


def _inside_shipped_helper(loop) -> bool:
    """Loops of a helper Ellora's transformations insert, word for word (the parallel sort
    on disjoint blocks, which the rules cannot read; its own tests compile and run it). A
    helper someone edited is checked like any other code."""
    from ellora.tools.loops import algorithms
    from ellora.tools.sort_transforms import shipped_helper_texts

    function = loop.parent
    while function is not None and function.type != "function_definition":
        function = function.parent
    if function is None:
        return False
    body = function.text.decode()
    return body in shipped_helper_texts() or body in algorithms.shipped_helper_texts()
