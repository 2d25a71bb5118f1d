"""Which loops of a region to parallelize, and the region rewritten with all of them.

A region (a function body, or the lines a user selected) may hold several loops, and the
loop worth parallelizing is not always the outermost: a time-step loop carries a dependence
from one step to the next while the spatial loop inside it is parallel. The plan takes each
outermost loop the analysis proves parallel; for one it refuses, it looks at the loops
directly inside. Loops left serial keep the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ellora.tools.cpp_syntax import loops_in_lines, parse_cpp, walk
from ellora.tools.loop_analysis import LoopFacts, analyze_loop


@dataclass
class RegionPlan:
    parallel: list[LoopFacts] = field(default_factory=list)
    serial: list[LoopFacts] = field(default_factory=list)  # refused, with the dependence

    @property
    def first_refusal(self) -> str:
        return self.serial[0].refusal if self.serial else "no for loop in the region"


@dataclass
class RegionRewrite:
    source: str
    explanation: str
    transformed: list[LoopFacts]
    left_serial: list[str]  # "line N: why", for the report


def _for_loops(tree) -> list:
    return [n for n in walk(tree.root_node) if n.type == "for_statement"]


def _direct_inner_loops(loop) -> list:
    found, stack = [], list(reversed(loop.child_by_field_name("body").children))
    while stack:
        node = stack.pop()
        if node.type == "for_statement":
            found.append(node)
            continue
        stack.extend(reversed(node.children))
    return found


def plan_region(source: str, first_line: int, last_line: int) -> tuple[RegionPlan, list]:
    """The plan and the chosen loop nodes (in source order) of ``source``'s tree."""
    tree = parse_cpp(source)
    plan, nodes = RegionPlan(), []

    def choose(loop) -> None:
        facts = analyze_loop(loop, source)
        if facts.parallel:
            plan.parallel.append(facts)
            nodes.append(loop)
            return
        plan.serial.append(facts)
        if facts.plan_inner_loops:
            for inner in _direct_inner_loops(loop):
                choose(inner)

    for loop in loops_in_lines(tree, first_line, last_line):
        choose(loop)
    return plan, nodes


def rewrite_region(source: str, first_line: int, last_line: int, target: str) -> RegionRewrite:
    """Apply the target's verified transformation to every loop the plan chose, last loop
    first; a loop the transformation cannot handle stays serial. ValueError when none could
    be transformed (the message says why)."""
    from ellora.tools.sort_transforms import SORT_TARGETS, mark_sorts, sort_calls
    from ellora.tools.transformations import TRANSFORMATIONS

    sorts = sort_calls(source, first_line, last_line) if target in SORT_TARGETS else []
    source = mark_sorts(source, sorts)  # same lines and loops; the helper comes last
    plan, nodes = plan_region(source, first_line, last_line)
    if not nodes and not sorts:
        raise ValueError(f"not parallelized: {plan.first_refusal}")
    tree = parse_cpp(source)
    ordinals = {n.start_byte: i for i, n in enumerate(_for_loops(tree))}
    original_line = {ordinals[n.start_byte]: f.start_line for n, f in zip(nodes, plan.parallel)}
    chosen = sorted(original_line, reverse=True)
    transformed, left_serial, explanations, obstacles = [], [], [], []
    for ordinal in chosen:
        loop = _for_loops(parse_cpp(source))[ordinal]
        facts = analyze_loop(loop, source)
        line = original_line[ordinal]
        if not facts.parallel:  # an edit of a later loop changed what this one sees
            left_serial.append(f"line {line}: kept serial ({facts.refusal})")
            continue
        try:
            result = TRANSFORMATIONS[target](source, loop, facts)
        except ValueError as error:
            obstacles.append(str(error))
            left_serial.append(f"line {line}: kept serial ({error})")
            continue
        source = result.source
        transformed.insert(0, facts)
        explanations.insert(0, f"line {line}: {result.explanation}")
    if not transformed and not sorts:
        raise ValueError(obstacles[0] if obstacles else f"not parallelized: {plan.first_refusal}")
    if sorts:
        from ellora.tools.sort_transforms import sort_explanation, with_sort_helper

        source = with_sort_helper(source, target)
        explanations.append(sort_explanation(sorts, target))
    for facts in plan.serial:
        inside = any(f.start_line > facts.start_line and f.end_line <= facts.end_line
                     for f in transformed)
        left_serial.append(
            f"line {facts.start_line}: kept serial ({facts.refusal})"
            + ("; loops inside it run in parallel" if inside else "")
        )
    return RegionRewrite(source, "\n".join(explanations), transformed, left_serial)
