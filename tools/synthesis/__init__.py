"""Differential-test harnesses synthesized from the function under test.

When a file ships no ``name.harness.cpp`` and has no ``main()``, the tester asks for one
here: :func:`synthesize_harness` finds the function holding the selected lines, reads what
the typed loop model knows about it (signature, accesses, loop bounds, indices read from
inputs), infers an input domain in which every index stays in range at every test size
(:mod:`.domain`), and writes a harness in the protocol of the shipped ones (:mod:`.emit`).
Where no safe domain can be inferred it raises :class:`CannotSynthesize` with the reason,
and the change stays unverified.

Modules: ``target`` (the function and its signature), ``scan`` (syntactic facts),
``ranges`` (index extremes under the guards around an access), ``facts`` (index
obligations), ``quantity`` (integer expressions read both as C++ and in Python),
``domain`` (sizes and index ranges), ``values`` (element values), ``emit`` (the C++).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ellora.tools.synthesis.target import CannotSynthesize

__all__ = ["CannotSynthesize", "SynthesizedHarness", "synthesize_harness"]


@dataclass
class SynthesizedHarness:
    """A harness's text, the function it calls and what it compares."""

    text: str
    function: str
    outputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    degree: int = 1
    instance: str = ""  # a function template's arguments, as called: "<double>"


def synthesize_harness(source: str, first_line: int, last_line: int, origin: str,
                       sizes: list[int]) -> SynthesizedHarness:
    """A harness for the function holding lines ``first_line``..``last_line`` of ``source``
    (``origin`` names the file in the harness's comment), whose input domain is checked at
    every size in ``sizes``; CannotSynthesize with the reason when none can be made."""
    from ellora.tools.synthesis.domain import solve
    from ellora.tools.synthesis.emit import element_bytes, render
    from ellora.tools.synthesis.facts import gather_facts
    from ellora.tools.synthesis.target import find_target, instantiated
    from ellora.tools.synthesis.values import ValueRules

    analysed, arguments = instantiated(source, first_line, last_line)
    target = find_target(analysed, first_line, last_line)
    facts = gather_facts(target)
    notes = list(facts.notes)
    if arguments:  # the harness includes the template and names the instance it tests
        target.call += arguments
        notes.append(f"{target.name}() is a template: tested as {target.name}{arguments}")
    domain = solve(facts, sorted(set(sizes)), lambda path: element_bytes(target, path))
    rules = ValueRules(facts)
    text, outputs = render(target, facts, domain, rules, origin, sorted(set(sizes)))
    return SynthesizedHarness(text, target.name, outputs, notes, domain.degree, arguments)
