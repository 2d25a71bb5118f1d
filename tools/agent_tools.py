"""The tools as typed LangChain tools, for providers that call tools themselves.

``make_agent_tools(sandbox, toolchain)`` binds them to a sandbox and toolchain; each takes
source text (not paths) and returns a JSON-serialisable dict, so a model's tool call can be
checked and replayed. The graph calls the same functions directly when the provider cannot
call tools.
"""

from __future__ import annotations

from typing import Any

from ellora.sandbox import Limits


def make_agent_tools(sandbox, toolchain, limits: Limits | None = None) -> list:
    """The list of ``StructuredTool`` objects an agent may call."""
    from ellora.tools.loops.cpp import CppSource
    from ellora.tools.loops.cpp.header import NotCounted
    from ellora.tools.loops.legality import decide
    from ellora.tools.profilers import callgrind
    from ellora.tools.verify import VerifySpec, build_variant, prepare_workspace
    from langchain_core.tools import StructuredTool

    limits = limits or Limits()

    def analyze_loop_tool(source: str, first_line: int, last_line: int) -> dict[str, Any]:
        """Dependence analysis of the first for loop starting in lines first_line..last_line
        of a C/C++ source: whether its iterations can run in parallel, its pattern
        (map, reduction, nested), reductions, private variables, or the dependence found."""
        parsed = CppSource(source)
        loops = parsed.loops_in_lines(first_line, last_line)
        if not loops:
            return {"error": f"no for loop starts in lines {first_line}-{last_line}"}
        try:
            verdict = decide(parsed.loop_model(loops[0]))
        except NotCounted as why:
            return {"parallel": False, "pattern": "refused",
                    "dependence": f"not a counted loop: {why}"}
        return {"parallel": verdict.parallel, "pattern": verdict.pattern,
                "facts": verdict.facts,
                "reductions": [{"variable": r.name, "operator": r.operator}
                               for r in verdict.reducers],
                "private": verdict.privates,
                "dependence": str(verdict.dependence) if verdict.dependence else None}

    def compile_tool(
        source: str, programming_model: str = "openmp", file_name: str = "code.cpp"
    ) -> dict[str, Any]:
        """Compile C/C++ source in the sandbox for a programming model (serial, openmp, mpi,
        mpi+openmp, kokkos, cuda). Returns ok, the command and structured diagnostics."""
        recipe = toolchain.recipe(programming_model)
        spec = VerifySpec(file_name, source, source, ".")
        workspace = prepare_workspace(sandbox, spec)
        try:
            outcome = build_variant(sandbox, workspace, spec, "candidate", recipe, limits)
        finally:
            sandbox.discard_workspace(workspace)
        return {
            "ok": outcome.ok,
            "command": outcome.command,
            "cached": outcome.cached,
            "diagnostics": [d.to_dict() for d in outcome.diagnostics][:20],
        }

    def hotspots_tool(source: str, programming_model: str = "serial") -> dict[str, Any]:
        """Build a whole program (with main) and count instructions per function with
        callgrind: deterministic hotspots even on a noisy machine."""
        recipe = toolchain.recipe(programming_model)
        spec = VerifySpec("program.cpp", source, source, ".")
        workspace = prepare_workspace(sandbox, spec)
        try:
            outcome = build_variant(sandbox, workspace, spec, "candidate", recipe, limits)
            if not outcome.ok:
                return {
                    "error": "does not compile",
                    "diagnostics": [d.to_dict() for d in outcome.diagnostics][:10],
                }
            return callgrind(sandbox, workspace, ["./candidate"], limits).to_dict()
        finally:
            sandbox.discard_workspace(workspace)

    return [
        StructuredTool.from_function(analyze_loop_tool, name="analyze_loop"),
        StructuredTool.from_function(compile_tool, name="compile"),
        StructuredTool.from_function(hotspots_tool, name="hotspots"),
    ]
