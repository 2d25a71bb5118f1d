"""Which loops of a region to parallelize, decided once, and the region rewritten with them.

A region (a function body, or the lines a user selected) may hold several loops, and the
loop worth parallelizing is not always the outermost: a time-step loop carries a dependence
from one step to the next while the spatial loop inside it is parallel. Each outermost loop
the rules prove parallel (and the target can express) is transformed; for one they refuse,
the loops directly inside it are planned instead. Loops left serial keep the reason. The
plan is computed once: the planner records it, the coder applies it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ellora.tools.loops.cpp import CppSource
from ellora.tools.loops.cpp.header import NotCounted
from ellora.tools.loops.emit import Emission, NotEmittable, apply_emissions, emit
from ellora.tools.loops.legality import decide
from ellora.tools.loops.placement import Placement, function_lines, produced_by, results_on_root


@dataclass
class LoopDecision:
    """What was decided about one loop, as plain data (it goes into the task's state)."""

    line: int
    end_line: int
    parallel: bool
    pattern: str
    why: str = ""  # the dependence, or why the target cannot express it
    facts: list[str] = field(default_factory=list)
    irregular: bool = False
    triangular: bool = False
    perfectly_nested: bool = False
    inner_parallel: bool = False
    versioned: bool = False
    conditional_stores: bool = False  # an if-converted variant is worth measuring

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RegionPlan:
    target: str
    transformed: list[LoopDecision] = field(default_factory=list)
    serial: list[LoopDecision] = field(default_factory=list)
    source: str | None = None  # the rewritten source, None when nothing was transformed
    explanation: str = ""
    sorts: list[int] = field(default_factory=list)  # lines of std::sort calls made parallel
    algorithms: list[int] = field(default_factory=list)  # lines of std::find, ... calls
    loops_found: int = 0

    @property
    def first_refusal(self) -> str:
        return self.serial[0].why if self.serial else "no for loop in the region"

    @property
    def pattern(self) -> str:
        names = [d.pattern for d in self.transformed] + ["sort"] * bool(self.sorts) + \
            ["algorithm"] * bool(self.algorithms)
        return "; ".join(dict.fromkeys(names)) or "unknown"

    def left_serial(self) -> list[str]:
        notes = []
        for decision in self.serial:
            inside = any(d.line > decision.line and d.end_line <= decision.end_line
                         for d in self.transformed)
            notes.append(f"line {decision.line}: kept serial ({decision.why})"
                         + ("; loops inside it run in parallel" if inside else ""))
        return notes

    def to_dict(self) -> dict:
        return {"target": self.target, "pattern": self.pattern,
                "transformed": [d.to_dict() for d in self.transformed],
                "serial": [d.to_dict() for d in self.serial],
                "explanation": self.explanation, "sorts": self.sorts,
                "algorithms": self.algorithms,
                "loops_found": self.loops_found}


LANGUAGES = {".f": "fortran", ".f90": "fortran", ".f95": "fortran", ".f03": "fortran",
             ".f08": "fortran", ".for": "fortran", ".ftn": "fortran"}


def language_of(file_name: str) -> str:
    """``fortran`` for Fortran sources (by suffix, any case), else ``cpp`` (C, C++, CUDA)."""
    from pathlib import Path

    return LANGUAGES.get(Path(file_name).suffix.lower(), "cpp")


def is_c_source(file_name: str) -> bool:
    """A C translation unit by the compilers' own rule: ``.c`` (``.C`` is C++)."""
    from pathlib import Path

    return Path(file_name).suffix == ".c"


def source_model(source: str, language: str = "cpp", c_source: bool = False):
    """The front end's parsed source: ``loops_in_lines``, ``loop_model``,
    ``direct_inner_loops``, ``uncounted_loops``, ``assigned_names``, ``declared_names``."""
    if language == "fortran":
        from ellora.tools.loops.fortran import FortranSource

        return FortranSource(source)
    return CppSource(source, c_source=c_source)


def _parallel_at(source: str, line: int) -> bool:
    """Whether the loop starting on ``line`` of ``source`` can run in parallel."""
    parsed = CppSource(source)
    for loop in parsed.loops_in_lines(line, line):
        try:
            return decide(parsed.loop_model(loop)).parallel
        except NotCounted:
            return False
    return False


def plan_region(source: str, first_line: int, last_line: int, target: str,
                if_convert: bool = False, language: str = "cpp",
                mpi_root: bool = False, c_source: bool = False) -> RegionPlan:
    """The region's plan for ``target`` with the rewritten source (when any loop or sort
    was transformed); ``if_convert`` lowers conditional stores to owned elements as
    selects; ``language`` picks the front end (``language_of(file_name)``); ``mpi_root``
    leaves MPI results on rank 0 only (gathers and reductions to the root); ``c_source``: a C
    file, whose run-time tests are written in C."""
    from ellora.tools.loops import algorithms
    from ellora.tools.loops.cpp.inductions import substitute_inductions
    from ellora.tools.sort_transforms import SORT_TARGETS, mark_sorts, sort_calls

    sorts, calls, working = [], [], source
    if language == "cpp":  # call-level rewrites of the C++ standard library
        sorts = sort_calls(source, first_line, last_line) if target in SORT_TARGETS else []
        working = mark_sorts(source, sorts)  # same lines and loops; the helper comes last
        calls = algorithms.algorithm_calls(working, first_line, last_line, target) \
            if target in algorithms.TARGETS else []
        working = algorithms.mark_algorithms(working, calls)
        working = substitute_inductions(working, first_line, last_line, _parallel_at)
    parsed = source_model(working, language, c_source)
    plan = RegionPlan(target)
    emissions: list[Emission] = []
    explanations: list[str] = []
    placements: dict[int, Placement] = {}  # per emission (by id): where its results go

    def choose(loop, around: tuple = ()) -> None:
        """``around``: the models of the refused loops (inside the region) around it."""
        plan.loops_found += 1
        line = loop.start_point[0] + 1
        end = loop.end_point[0] + 1
        try:
            model = parsed.loop_model(loop)
        except NotCounted as why:
            plan.serial.append(LoopDecision(line, end, False, "refused",
                                            f"not a counted loop: {why}"))
            for inner in parsed.direct_inner_loops(loop):
                choose(inner, (*around, (loop, None)))
            return
        verdict = decide(model)
        too_small = _too_little_work(parsed, model, around) if verdict.parallel else ""
        if too_small:
            plan.serial.append(LoopDecision(line, end, False, verdict.pattern, too_small,
                                            facts=list(verdict.facts)))
            return
        decision = LoopDecision(line, end, verdict.parallel, verdict.pattern,
                                facts=list(verdict.facts), irregular=verdict.irregular,
                                triangular=verdict.triangular, versioned=verdict.versioned)
        _nest_shape(parsed, model, decision)
        if verdict.parallel:
            if language == "cpp":
                from ellora.tools.loops.emit.common import LoopText

                decision.conditional_stores = verdict.pattern == "map" and bool(
                    LoopText(verdict).if_conversions())
            try:
                emission = emit(verdict, target, if_convert, False)
            except NotEmittable as why:
                decision.why = str(why)
                plan.serial.append(decision)
                for inner in model.direct_inner_loops:
                    choose(inner, (*around, (loop, model)))
                return
            emissions.append(emission)
            placements[id(emission)] = Placement(
                line, function_lines(model), model.function.name, not around, produced_by(model),
                lambda v=verdict: emit(v, target, if_convert, True),
                root_only_updates={s.base for s in verdict.scatters})
            plan.transformed.append(decision)
            return
        decision.why = str(verdict.dependence)
        plan.serial.append(decision)
        if target == "mpi" and language == "cpp" and verdict.dependence.kind != "alias":
            stepped = _distributed_steps(parsed, model, verdict, around, False)
            if stepped is not None:
                inner_decision, emission = stepped
                emissions.append(emission)
                placements[id(emission)] = Placement(
                    line, function_lines(model), model.function.name, not around, produced_by(model),
                    lambda m=model, v=verdict, a=around: _distributed_steps(parsed, m, v, a,
                                                                            True)[1])
                plan.transformed.append(inner_decision)
                return
        if verdict.dependence.kind != "alias":  # inner loops of an aliasing nest rarely pay
            for inner in model.direct_inner_loops:
                choose(inner, (*around, (loop, model)))

    for loop in parsed.loops_in_lines(first_line, last_line):
        choose(loop)
    if mpi_root and target == "mpi" and language == "cpp" and emissions:
        results_on_root(parsed.tree, emissions, placements,
                        [c.line for c in (*sorts, *calls)])
    for emission in sorted(emissions, key=lambda e: e.start):
        explanations.append(f"line {placements[id(emission)].line}: {emission.explanation}")
    if language == "cpp" and target in SORT_TARGETS:
        from ellora.tools.sort_transforms import refused_sorts

        for line, why in refused_sorts(source, first_line, last_line):
            plan.loops_found += 1
            plan.serial.append(LoopDecision(line, line, False, "refused", why))
    for loop in parsed.uncounted_loops(first_line, last_line):
        plan.loops_found += 1
        plan.serial.append(LoopDecision(
            loop.start_point[0] + 1, loop.end_point[0] + 1, False, "refused",
            f"a {parsed.loop_kind(loop)} loop is not a counted loop: how many times it runs "
            "is only known as it runs, so its iterations cannot be shared out"))
    plan.transformed.sort(key=lambda d: d.line)
    if emissions or sorts or calls:
        rewritten = apply_emissions(working, emissions, target) if emissions else working
        if calls:
            rewritten = algorithms.with_algorithm_helpers(rewritten, target, calls)
            explanations.append(algorithms.algorithm_explanation(calls, target))
            plan.algorithms = [call.line for call in calls]
        if sorts:
            from ellora.tools.sort_transforms import sort_explanation, with_sort_helper

            rewritten = with_sort_helper(rewritten, target)
            explanations.append(sort_explanation(sorts, target))
            plan.sorts = [call.line for call in sorts]
        plan.source = rewritten
        plan.explanation = "\n".join(explanations)
    return plan


def _distributed_steps(parsed, outer_model, outer_verdict, around: tuple, mpi_root: bool):
    """(decision, emission) for a serial loop whose body is one parallel loop, distributed
    under MPI by the rows the inner loop writes (:mod:`ellora.tools.loops.emit.mpi_steps`),
    or None (the inner loop is then planned on its own, with a gather after every step)."""
    from ellora.tools.loops.emit.mpi_steps import emit_mpi_steps

    if outer_model.top_statements != ["loop"] or len(outer_model.direct_inner_loops) != 1:
        return None
    node = outer_model.direct_inner_loops[0]
    try:
        inner = decide(parsed.loop_model(node))
    except NotCounted:
        return None
    if not inner.parallel or _too_little_work(
            parsed, inner.loop, (*around, (outer_model.node, outer_model))):
        return None
    try:
        emission = emit_mpi_steps(outer_verdict, inner, mpi_root)
    except NotEmittable:
        return None
    decision = LoopDecision(inner.loop.line, inner.loop.end_line, True, inner.pattern,
                            facts=list(inner.facts), triangular=inner.triangular)
    return decision, emission


def _too_little_work(parsed, model, around: tuple) -> str:
    """Why a parallel loop inside serial loops would cost more than it saves, or "". Each
    trip of the serial loops around it starts a parallel region (microseconds); a loop
    whose iterations are single statements pays off only with many of them: not when it is
    two serial loops deep, nor when its trip count follows the loops around it."""
    if not around or model.inner:
        return ""
    if len(around) >= 2:
        return ("a loop of single statements two serial loops deep: starting a parallel "
                "region for every trip of the loops around it costs more than its work")
    node, outer = around[-1]
    if outer is None:  # a loop that is not counted: whatever it assigns or declares
        changing = parsed.assigned_names(node) | parsed.declared_names(node)
    else:
        changing = {outer.header.var, *outer.locals, *(
            name for name, events in outer.scalars.items()
            if any(e.mode != "read" for e in events))}
    header = model.header
    names = set()
    for poly in (header.lower, header.upper):
        names |= model.function.atoms.plain_names(poly)
    if names & changing:
        return (f"its trip count changes with the serial loop around it (line "
                f"{node.start_point[0] + 1}): a "
                "parallel region per trip for a few single statements costs more than it saves")
    return ""


def _nest_shape(parsed: CppSource, model, decision: LoopDecision) -> None:
    """Whether the body is exactly one rectangular loop that is parallel by itself (so
    ``collapse(2)`` is a variant worth measuring)."""
    if model.top_statements != ["loop"] or len(model.direct_inner_loops) != 1 or \
            decision.triangular:
        return
    decision.perfectly_nested = True
    try:
        inner = decide(parsed.loop_model(model.direct_inner_loops[0]))
    except NotCounted:
        return
    decision.inner_parallel = inner.parallel and not inner.reducers and not inner.scatters \
        and inner.pattern == "map" and not inner.versioned
