"""Prompts for model-alone samples, and turning a reply into a candidate source file.

Generation: a C++ doc comment (description + what to use) and the function's signature ending
in ``{`` (ParEval's form); the model writes the body, or the whole function. Translation: the
source implementation and the target model; the model writes the whole function.
"""

from __future__ import annotations

import re

from ellora.evals.programming import DISPLAY, PROMPT_HINTS, PROMPT_INCLUDES
from ellora.evals.suite import Problem, Task

_CODE_BLOCK = re.compile(r"```[a-zA-Z+]*[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_MODEL_HEADER = re.compile(r"cuda|hip/|omp\.h|mpi\.h|Kokkos", re.IGNORECASE)
_INCLUDE = re.compile(r"^\s*#\s*include[^\n]*$", re.MULTILINE)

SYSTEM = ("You are an expert in high-performance computing and parallel programming in C++. "
          "Reply with C++ code in one ```cpp code block.")
GENERATION = """Complete the C++ function {function}. Write only the code, in one ```cpp block.

```cpp
{prompt}
```"""
SYSTEM_FORTRAN = ("You are an expert in high-performance computing and parallel programming in "
                  "Fortran. Reply with Fortran code in one ```fortran code block.")
FORTRAN_HINTS = {
    "openmp": "Use OpenMP directives (!$omp) to compute in parallel.",
    "mpi": "Use MPI through the mpi_f08 module to compute in parallel. Assume MPI has already "
           "been initialized. Every rank has a complete copy of the inputs. Every rank must end "
           "with the complete result.",
}
TRANSLATION_FORTRAN = """Parallelize the serial Fortran code below with {target_name}, in Fortran.
{hint}
Keep the same module, procedure names, arguments and results. Reply with the complete
Fortran code in one ```fortran block.

```fortran
{source}
```"""
TRANSLATION = """Translate the {source_name} implementation of {function} below into {target_name}.
{hint}
Keep the same function signature and results. Reply with the complete {target_name} code
(includes and the function) in one ```cpp block.

```cpp
{source}
```"""


def includes_of(source: str) -> list[str]:
    return [line.strip() for line in _INCLUDE.findall(source)]


def signature_of(source: str, function: str) -> str:
    """The text of ``function``'s definition up to (not including) its body's ``{``."""
    from ellora.tools.loops.cpp import parse, text, walk

    for node in walk(parse(source).root_node):
        if node.type != "function_definition":
            continue
        declarator = node.child_by_field_name("declarator")
        if declarator is not None and re.search(rf"\b{re.escape(function)}\s*\(", text(declarator)):
            body = node.child_by_field_name("body")
            return source.encode()[node.start_byte:body.start_byte].decode().strip()
    raise ValueError(f"function {function!r} not found in the serial source")


def generation_prompt(problem: Problem, target: str) -> str:
    """The code prompt: includes, a doc comment, the signature ending with ``{``."""
    if "prompts" in problem.extra:
        return problem.extra["prompts"][target]
    serial = problem.source("serial")
    includes = includes_of(serial)
    extra = PROMPT_INCLUDES.get(target)
    if extra:
        includes += [line for line in extra.splitlines() if line not in includes]
    comment = problem.description.strip().replace("\n", "\n   ")
    hint = PROMPT_HINTS[target]
    if hint:
        comment += "\n   " + hint
    return "\n".join(includes) + f"\n\n/* {comment}\n*/\n{signature_of(serial, problem.function)} {{"


def completion_prompt(problem: Problem, task: Task) -> str | None:
    """The code the model completes (ending with ``{``), or None when it writes whole code.

    Generation always has one; ParEval's translations do too (its target prompt, shown after
    the commented source), since their target signatures differ from the source's.
    """
    if task.kind == "generation":
        return generation_prompt(problem, task.target)
    if "translations" in problem.extra:
        return problem.extra["prompts"][task.target]
    return None


def translation_source(problem: Problem, task: Task) -> str:
    if "translations" in problem.extra:
        return problem.extra["translations"][f"{task.source}->{task.target}"]["source"]
    return problem.source(task.source or "serial")


def source_as_compiled(problem: Problem, task: Task) -> str:
    """The translation source as the task's driver compiles it: for ParEval, preceded by the
    system headers its driver includes before the generated code (ParEval's sources use
    ``std::array`` and friends without including them). The agent starts from this file,
    and the reference run submits it, so both time the same code."""
    source = translation_source(problem, task)
    if problem.driver != "pareval":
        return source
    from ellora.evals.pareval import driver_includes

    includes = [line for line in driver_includes(problem, task.target) if line not in source]
    return "\n".join(includes) + "\n\n" + source if includes else source


def build_messages(problem: Problem, task: Task) -> list:
    """System + user messages for one model-alone sample."""
    from langchain_core.messages import HumanMessage, SystemMessage

    if task.source == "fortran":
        user = TRANSLATION_FORTRAN.format(target_name=DISPLAY[task.target],
                                          hint=FORTRAN_HINTS.get(task.target, ""),
                                          source=translation_source(problem, task).strip())
        return [SystemMessage(SYSTEM_FORTRAN), HumanMessage(user)]
    if task.kind == "generation":
        user = GENERATION.format(function=problem.function,
                                 prompt=generation_prompt(problem, task.target))
    elif "translations" in problem.extra:
        pair = problem.extra["translations"][f"{task.source}->{task.target}"]
        user = GENERATION.format(function=problem.function, prompt=pair["prompt"])
    else:
        user = TRANSLATION.format(source_name=DISPLAY[task.source], target_name=DISPLAY[task.target],
                                  function=problem.function, hint=PROMPT_HINTS[task.target],
                                  source=translation_source(problem, task).strip())
    return [SystemMessage(SYSTEM), HumanMessage(user)]


def extract_code(reply: str) -> str | None:
    """The first fenced code block, or None."""
    match = _CODE_BLOCK.search(reply)
    return match.group(1) if match and match.group(1).strip() else None


def defines_function(code: str, function: str) -> bool:
    return re.search(rf"\b{re.escape(function)}\s*\([^;{{]*\)\s*(const\s*)?\{{", code) is not None


def assemble_candidate(problem: Problem, task: Task, reply: str) -> str | None:
    """The candidate source for a reply, or None when the reply has no code."""
    code = extract_code(reply)
    if task.source == "fortran":
        return code  # the whole Fortran source: no includes to add
    prompt = completion_prompt(problem, task)
    if prompt is not None:
        if code is None:  # a completion model continues the prompt directly
            code = reply if reply.strip() else None
        if code is None:
            return None
        if defines_function(code, problem.function):
            header = prompt.rsplit("\n", 1)[0]
            return header + "\n" + code
        body = prompt + "\n" + code
        return body + "\n}\n" * max(0, body.count("{") - body.count("}"))
    if code is None:
        return None
    source_includes = [line for line in includes_of(translation_source(problem, task))
                       if not _MODEL_HEADER.search(line)]
    missing = [line for line in source_includes + PROMPT_INCLUDES.get(task.target, "").splitlines()
               if line and line not in code]
    return "\n".join([*missing, code])
