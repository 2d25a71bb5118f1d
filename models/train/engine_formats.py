"""Training examples in the shapes the model meets when it is used.

- ``pareval``: the model-alone translation prompt ParEval uses (``evals/prompts.py``): a
  commented serial implementation, then the target's prompt ending with the signature and
  ``{``; the answer is the body of the verified port in a ```cpp block (the evaluation
  appends it to the prompt).
- ``translate``: the built-in suite's model-alone translation prompt; the answer is the
  whole verified port.
- ``agent``: the agent coder's prompt (``agents.coder.build_messages``, built from the same
  state the agent builds); the answer replaces the selected lines, or is SEARCH/REPLACE
  blocks when the port also adds includes or helpers outside them.
- ``refusal``: the agent coder's prompt for a loop the engine refused; the answer says it
  stays serial and why, with no code.
- ``explain``: which loops can run in parallel and why, answered with the engine's own
  explanation (or its reasons for refusing).

A verified port also stands for the same code with its returned accumulator declared in the
body (:func:`specialized`): the test passed for any start value the harness passed in, so
it holds for the identity too. The ``pareval`` and ``translate`` forms use that version for a
share of their examples (``train.engine.specialize_share``), the shape ParEval's and users'
functions have.

The system message is the context (the ``chat`` prompt format folds it into the user turn
as Gemma's template does); a share of examples carries none, as servers that drop system
messages (llama.cpp's ``gemma`` chat format) present them.
"""

from __future__ import annotations

import difflib
import random
import re

from ellora.models.prompt_format import Example
from ellora.tools.loops.cpp import parse, text, walk

FORMS = ("pareval", "translate", "agent", "refusal", "explain")
PAREVAL_NAMES = {"serial": "Serial", "openmp": "OpenMP", "mpi": "MPI", "kokkos": "Kokkos"}
PAREVAL_TARGETS = ("openmp", "mpi")
EXPLAIN_SYSTEM = ("You are a careful HPC engineer. You decide which loops can run in parallel "
                  "without changing results, and say why.")
# includes the agent's coder adds itself, or that the target's headers already bring
_IMPLIED_INCLUDES = {"kokkos": {"Kokkos_Core.hpp", "type_traits"}, "openmp": {"omp.h"},
                     "mpi": set()}


def function_node(source: str, name: str):
    """The definition of ``name`` in ``source`` (None when absent)."""
    for node in walk(parse(source).root_node):
        if node.type == "function_definition":
            declarator = node.child_by_field_name("declarator")
            if declarator is not None and re.search(rf"\b{re.escape(name)}\s*\(", text(declarator)):
                return node
    return None


def split_function(source: str, name: str) -> tuple[str, str, str, str] | None:
    """(text before the function, its signature, its body inside the braces, text after)."""
    node = function_node(source, name)
    if node is None:
        return None
    body = node.child_by_field_name("body")
    data = source.encode()
    return (data[:node.start_byte].decode(), data[node.start_byte:body.start_byte].decode().strip(),
            data[body.start_byte + 1:body.end_byte - 1].decode(), data[node.end_byte:].decode())


def _includes(textual: str) -> set[str]:
    return set(re.findall(r"#\s*include\s*[<\"]([^>\"]+)[>\"]", textual))


def _without_includes(textual: str) -> str:
    lines = [l for l in textual.splitlines() if l.strip() and not re.match(r"\s*#\s*include", l)]
    return "\n".join(lines)


def function_local(kernel: str, port: str, name: str) -> bool:
    """Whether the port changes only the function's body (and adds includes)."""
    a, b = split_function(kernel, name), split_function(port, name)
    return a is not None and b is not None and a[1] == b[1] and \
        _without_includes(a[0]) == _without_includes(b[0]) and a[3].strip() == b[3].strip()


def describe(kernel: str, name: str, provenance: dict) -> str:
    """A factual doc comment: where the loop comes from, what it reads and writes."""
    node = function_node(kernel, name)
    reads, writes, apart = [], [], []
    if node is not None:
        declarator = node.child_by_field_name("declarator")
        for param in declarator.child_by_field_name("parameters").named_children:
            # from the kernel's bytes: the parser reads a restricted reference's qualifier
            # as a comment (tools/loops/cpp), and the promise is what this says
            spelled = kernel.encode()[param.start_byte:param.end_byte].decode()
            param_name = re.findall(r"\w+", spelled)[-1]
            mutable = ("*" in spelled or "&" in spelled) and "const" not in spelled
            (writes if mutable else reads).append(param_name)
            if "__restrict" in spelled:
                apart.append(param_name)
    returns = node is not None and not text(node).lstrip().startswith("void")
    where = f"{provenance['function']} in {provenance['library']} ({provenance['file']})"
    parts = [f"reads {', '.join(reads)}" if reads else "",
             f"writes {', '.join(writes)}" if writes else "",
             "returns the value it computes" if returns else ""]
    done = "; ".join(p for p in parts if p)
    said = f"A loop of {where}.\n   It {done}." if done else f"A loop of {where}."
    if len(apart) > 1:  # the caller's promise, as the code says it (__restrict__)
        said += f"\n   {', '.join(apart)} never share storage."
    return said


def pareval_prompt(kernel: str, name: str, target: str, description: str) -> str | None:
    """ParEval's translation prompt for ``kernel`` (serial -> ``target``)."""
    from ellora.evals.programming import PROMPT_HINTS, PROMPT_INCLUDES

    parts = split_function(kernel, name)
    if parts is None:
        return None
    _, signature, body, _ = parts
    body_lines = body.strip("\n").splitlines()
    if body_lines:
        body_lines[0] = body_lines[0].lstrip()  # ParEval's examples start the body flush left
    serial = f"/* {description}\n*/\n{signature} {{\n" + "\n".join(body_lines) + "\n}"
    commented = "\n".join(f"// {line}" if line else "// " for line in serial.splitlines())
    target_prompt = (f"{PROMPT_INCLUDES[target]}\n\n/* {description}\n   "
                     f"{PROMPT_HINTS[target]}\n*/\n{signature} {{")
    return (f"// Serial implementation of {name}\n{commented}\n\n"
            f"// {PAREVAL_NAMES[target]} implementation of {name}\n{target_prompt}\n")


def _messages_example(messages: list, answer: str, with_system: bool) -> Example:
    system, user = str(messages[0].content), str(messages[-1].content)
    return Example(question=user, answer=answer, context=system if with_system else "")


def pareval_example(record: dict, with_system: bool) -> Example | None:
    """The ``pareval`` form of a verified port (None when the port is not function-local
    or the target has no ParEval-style translation here)."""
    from ellora.evals.prompts import GENERATION, SYSTEM
    from langchain_core.messages import HumanMessage, SystemMessage

    name, kernel, port = record["name"], record["kernel"], record["port"]
    if record["target"] not in PAREVAL_TARGETS or not function_local(kernel, port, name):
        return None
    prompt = pareval_prompt(kernel, name, record["target"], describe(kernel, name, record))
    if prompt is None:
        return None
    body = split_function(port, name)[2].strip("\n").rstrip()
    user = GENERATION.format(function=name, prompt=prompt)
    answer = f"```cpp\n{body}\n}}\n```"
    return _messages_example([SystemMessage(SYSTEM), HumanMessage(user)], answer, with_system)


def translate_example(record: dict, with_system: bool) -> Example:
    """The built-in suite's model-alone translation prompt, answered with the whole port."""
    from ellora.evals.programming import DISPLAY, PROMPT_HINTS
    from ellora.evals.prompts import SYSTEM, TRANSLATION
    from langchain_core.messages import HumanMessage, SystemMessage

    target = record["target"]
    user = TRANSLATION.format(source_name=DISPLAY["serial"], target_name=DISPLAY[target],
                              function=record["name"], hint=PROMPT_HINTS[target],
                              source=record["kernel"].strip())
    answer = f"```cpp\n{record['port'].strip()}\n```"
    return _messages_example([SystemMessage(SYSTEM), HumanMessage(user)], answer, with_system)


def agent_state(record: dict) -> dict:
    """The task state the agent builds for this kernel (as ``evals/agent_mode.py`` does)."""
    from ellora.evals.agent_mode import TASK_TEXT, body_lines

    first, last = body_lines(record["kernel"], record["name"])
    loop = {"facts": record.get("loop_facts") or []}
    return {"task": TASK_TEXT[record["target"]], "file": f"{record['name']}.cpp",
            "original": record["kernel"], "first_line": first, "last_line": last,
            "target_model": record["target"], "plan": {"loop": loop}}


# standard headers a user's file may include whatever its loop does
_COMMON_HEADERS = ("algorithm", "array", "cassert", "cfloat", "climits", "cmath", "complex",
                   "cstdint", "cstdio", "cstdlib", "functional", "iostream", "limits", "map",
                   "memory", "numeric", "queue", "random", "set", "string", "type_traits",
                   "utility", "vector")


def dressed(record: dict, rng: random.Random) -> dict:
    """``record`` with its kernel and port both laid out as users' files are: more includes
    above (up to a dozen, whatever the loop needs), often a doc comment on the function and
    sometimes tabs for indentation. The agent meets whole files like that, not the bare
    kernel; the port is dressed the same way, so it still differs only where the engine
    changed it."""
    name = record["name"]
    present = _includes(record["kernel"])
    extra = [h for h in rng.sample(_COMMON_HEADERS, rng.randint(0, 12)) if h not in present]
    head = "".join(f"#include <{header}>\n" for header in extra)
    comment = f"/* {describe(record['kernel'], name, record)}\n*/\n" if rng.random() < 0.6 \
        else ""
    indents = [len(m) for m in re.findall(r"(?m)^( +)\S", record["kernel"])]
    unit = min(indents) if indents and rng.random() < 0.3 else 0

    def dress(source: str) -> str:
        node = function_node(source, name)
        if node is None:
            return source
        at = node.start_byte
        data = source.encode()
        source = data[:at].decode() + comment + data[at:].decode()
        if unit:
            source = re.sub(r"(?m)^( +)", lambda m: "\t" * (len(m.group(1)) // unit)
                            + " " * (len(m.group(1)) % unit), source)
        return head + ("\n" if head and not source.startswith("#") else "") + source

    return {**record, "kernel": dress(record["kernel"]), "port": dress(record["port"])}


def agent_answer(record: dict, state: dict) -> str:
    """The coder's reply that turns the kernel into the port: the new selected lines, or
    SEARCH/REPLACE blocks when text outside them changes too."""
    kernel, port, target = record["kernel"], record["port"], record["target"]
    added = _includes(port) - _includes(kernel)
    if function_local(kernel, port, record["name"]) and added <= _IMPLIED_INCLUDES[target]:
        body = split_function(port, record["name"])[2].strip("\n").rstrip()
        return f"```cpp\n{body}\n```"
    return search_replace_blocks(kernel, port)


def search_replace_blocks(old: str, new: str, context: int = 1) -> str:
    """SEARCH/REPLACE blocks that turn ``old`` into ``new`` (each SEARCH unique in ``old``,
    with ``context`` unchanged lines around a change, more where needed)."""
    a, b = old.splitlines(), new.splitlines()
    blocks = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        while (i2 - i1 == 0 or "\n".join(a).count("\n".join(a[i1:i2])) > 1) and \
                (i1 > 0 or i2 < len(a)):
            i1, j1 = (i1 - 1, j1 - 1) if i1 > 0 else (i1, j1)
            i2, j2 = (i2 + 1, j2 + 1) if i2 < len(a) else (i2, j2)
        blocks.append("<<<<<<< SEARCH\n" + "\n".join(a[i1:i2]) + "\n=======\n"
                      + "\n".join(b[j1:j2]) + "\n>>>>>>> REPLACE")
    return "\n".join(blocks)


def agent_example(record: dict, with_system: bool) -> Example:
    """The agent coder's prompt, answered with the edit that gives the verified port."""
    from ellora.agents.coder import build_messages

    state = agent_state(record)
    return _messages_example(build_messages(state), agent_answer(record, state), with_system)


def refusal_text(record: dict) -> str:
    """Why the loops stay serial, in the engine's words."""
    from ellora.evals.programming import DISPLAY

    reasons = "; ".join(f"the loop at line {r['line']}: {r['why']}" for r in record["refusals"])
    return (f"Kept serial: {reasons}. No {DISPLAY[record['target']]} version of these lines "
            "is safe, so they stay as they are.")


def refusal_example(record: dict, with_system: bool) -> Example:
    """The agent coder's prompt for a refused loop, answered with the refusal."""
    from ellora.agents.coder import build_messages

    state = agent_state(record)
    return _messages_example(build_messages(state), refusal_text(record), with_system)


def explain_example(record: dict, with_system: bool) -> Example:
    """Which loops can run in parallel, and why (the engine's explanation)."""
    from ellora.evals.programming import DISPLAY
    from ellora.models.train.engine_ports import without_min_trip

    target = DISPLAY[record["target"]]
    question = (f"Can the loops of {record['name']} run in parallel with {target}? Say which "
                f"loops, and why.\n\n```cpp\n{record['kernel'].strip()}\n```")
    if record["outcome"] == "port":
        lines = [without_min_trip(l) for l in record["explanation"].splitlines() if l.strip()]
        answer = "Yes.\n" + "\n".join([*lines, *record.get("left_serial", [])])
    else:
        answer = "No. " + refusal_text(record)
    return Example(question=question, answer=answer,
                   context=EXPLAIN_SYSTEM if with_system else "")


SPECIALIZED_FORMS = ("pareval", "translate")


def specialized(record: dict) -> dict | None:
    """The port record with the accumulator it returns made a local of both the kernel and
    the port (:func:`~ellora.models.train.engine_variants.local_result`, the same edit on
    both sides), or None when either side has no such accumulator. The differential test
    passed the accumulator's start value in from the harness, so the equivalence it showed
    holds for the identity the local starts from."""
    from ellora.models.train.engine_variants import local_result

    if record.get("outcome") != "port":
        return None
    kernel = local_result(record["kernel"], record["name"])
    port = local_result(record["port"], record["name"]) if kernel is not None else None
    if port is None:
        return None
    return {**record, "kernel": kernel, "port": port,
            "variant": f"{record.get('variant', 'base')}+local(specialized)"}


BUILDERS = {"pareval": pareval_example, "translate": translate_example, "agent": agent_example,
            "refusal": refusal_example, "explain": explain_example}


def overlap_checked(port: str) -> bool:
    """Whether the port's parallel loop runs only after a run-time overlap test."""
    from ellora.tools.loops.emit.checks import OVERLAP_GUARD

    return OVERLAP_GUARD in port


def forms_for(record: dict) -> tuple[str, ...]:
    """The forms a record can take: ports give the code forms, refusals the others; a port
    behind a run-time overlap test only its explanation (its ``__restrict__`` twin gives
    the code forms: a small model copies the test's names without their meaning)."""
    if record["outcome"] == "port":
        if overlap_checked(record.get("port", "")):
            return ("explain",)
        return ("pareval", "translate", "agent", "explain")
    return ("refusal", "explain")


# longest update quoted in a note; a longer one is left unsaid
_NOTE_CHARS = 120


def reduction_notes(kernel: str) -> dict[str, str]:
    """name -> ``<update as written>  => reduction(op:name)`` for each reduction the engine
    finds in the kernel's loops: the evidence first, then the clause it gives."""
    from ellora.tools.loops.cpp import CppSource
    from ellora.tools.loops.cpp.header import NotCounted
    from ellora.tools.loops.legality import decide

    parsed = CppSource(kernel)
    notes: dict[str, str] = {}
    for loop in parsed.loops_in_lines(1, kernel.count("\n") + 1):
        try:
            verdict = decide(parsed.loop_model(loop))
        except NotCounted:
            continue
        for reducer in verdict.reducers:
            if reducer.update and len(reducer.update) <= _NOTE_CHARS:
                notes.setdefault(reducer.name, f"{reducer.update}  => "
                                 f"reduction({reducer.operator}:{reducer.name})")
    return notes


def with_reduction_notes(record: dict) -> dict:
    """``record`` with a comment above each OpenMP ``reduction`` clause of its port quoting
    the update that decides the operator (:func:`reduction_notes`): a small model that
    writes the evidence before the clause picks the operator from it, not from habit."""
    if record.get("target") != "openmp" or "reduction(" not in record.get("port", ""):
        return record
    notes = reduction_notes(record["kernel"])
    lines = []
    for line in record["port"].splitlines(keepends=True):
        if line.lstrip().startswith("#pragma omp") and "reduction(" in line:
            indent = line[:len(line) - len(line.lstrip())]
            for names in re.findall(r"reduction\(\s*[^:()]+:([^)]*)\)", line):
                lines += [f"{indent}// {notes[n.strip()]}\n" for n in names.split(",")
                          if n.strip() in notes]
        lines.append(line)
    return {**record, "port": "".join(lines)}


CODE_FORMS = ("pareval", "translate", "agent")


def render(record: dict, form: str, rng: random.Random, system_share: float = 0.7,
           notes: bool = False) -> Example | None:
    """``record`` in ``form``; None when the form does not apply to it. With ``notes``, code
    forms carry :func:`with_reduction_notes`; the agent form shows the kernel
    :func:`dressed` as a user's file."""
    if notes and form in CODE_FORMS and record.get("outcome") == "port":
        record = with_reduction_notes(record)
    if form == "agent":
        record = dressed(record, rng)
    return BUILDERS[form](record, rng.random() < system_share)
