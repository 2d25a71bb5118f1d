"""Which procedures of the file a loop may call from several threads.

A procedure declared ``pure`` or ``elemental`` is pure by the language's rule (the compiler
checks it). Another procedure of the file is judged from its body: it writes only its own
non-``save`` locals, its result, and its dummy arguments of ``intent(out)`` or
``intent(inout)``; it does no I/O, no ``stop``, and calls only pure procedures and
intrinsics. A subroutine's writes to its arguments are writes of the caller's actual
arguments, which the loop model records as accesses.
"""

from __future__ import annotations

from dataclasses import dataclass

from ellora.tools.loops.fortran.intrinsics import intrinsic_effect
from ellora.tools.loops.fortran.scope import FileScope, read_procedure_scope
from ellora.tools.loops.fortran.syntax import (
    callee_and_arguments,
    lower,
    named,
    unit_name,
    walk,
)

_IO = ("print_statement", "write_statement", "read_statement", "open_statement",
       "close_statement", "stop_statement", "inquire_statement", "flush_statement",
       "backspace_statement", "rewind_statement", "endfile_statement", "format_statement")


@dataclass(frozen=True)
class ProcedureEffect:
    """``pure`` or ``unknown`` (with the reason), and for a subroutine the positions of
    the dummy arguments it may write."""

    kind: str
    written: tuple[int, ...] = ()
    reason: str = ""


def procedure_effect(file: FileScope, name: str) -> ProcedureEffect:
    """What calling ``name`` does (cached on the file scope)."""
    cache = file.__dict__.setdefault("_ellora_purity", {})
    if name in cache:
        found = cache[name]
        return ProcedureEffect("pure") if found == "pending" else found
    cache[name] = "pending"  # a recursive call is judged by the rest of the body
    definitions = file.functions.get(name, [])
    if not definitions:
        interface = file.interfaces.get(name)
        if interface is not None and name in file.declared_pure:
            effect = ProcedureEffect("pure", _written_dummies(interface, file))
        else:
            effect = ProcedureEffect("unknown", reason="not defined in this file")
    elif len(definitions) > 1:
        effect = ProcedureEffect("unknown", reason="defined more than once in this file")
    else:
        effect = _judge(definitions[0], file, name in file.declared_pure)
    cache[name] = effect
    return effect


def _written_dummies(definition, file: FileScope) -> tuple[int, ...]:
    scope = read_procedure_scope(definition, file)
    header = definition.named_children[0]
    parameters = header.child_by_field_name("parameters")
    names = [lower(c) for c in parameters.named_children if c.type == "identifier"] \
        if parameters is not None else []
    written = []
    for position, dummy in enumerate(names):
        symbol = scope.lookup(dummy)
        intent = symbol.intent if symbol is not None else None
        if intent != "in" and not (symbol is not None and "value" in symbol.attributes):
            written.append(position)
    return tuple(written)


def _judge(definition, file: FileScope, declared_pure: bool) -> ProcedureEffect:
    written = _written_dummies(definition, file) if definition.type == "subroutine" else ()
    if declared_pure:
        return ProcedureEffect("pure", written)
    scope = read_procedure_scope(definition, file)
    own = {n for n, s in scope.unit.symbols.items() if s.where in ("local", "result")
           and "save" not in s.attributes and s.initializer is None}
    own |= {n for n, s in scope.unit.symbols.items() if s.where == "parameter"
            and s.intent in ("out", "inout")}
    if definition.type == "subroutine":
        own |= {n for n, s in scope.unit.symbols.items() if s.where == "parameter"
                and s.intent is None}
    for node in walk(definition):
        if node != definition and node.is_named and node.type in ("subroutine", "function"):
            return ProcedureEffect("unknown", reason="it contains procedures")
        if node.type in _IO:
            return ProcedureEffect("unknown", reason="it does input/output or stops")
        target = None
        if node.type == "assignment_statement":
            target = node.child_by_field_name("left")
        elif node.type == "pointer_association_statement":
            target = node.named_children[0] if node.named_children else None
        if target is not None:
            root = _root_name(target)
            if root is None or root not in own:
                return ProcedureEffect("unknown", reason=f"it assigns {root or 'memory'}, "
                                                         "which outlives the call")
        if node.type == "subroutine_call":
            callee = node.child_by_field_name("subroutine")
            name = lower(callee) if callee is not None else "?"
            effect = intrinsic_effect(name)
            if effect == "impure" or (effect is None and
                                      procedure_effect(file, name).kind != "pure"):
                return ProcedureEffect("unknown", reason=f"it calls {name}")
        elif node.type == "call_expression":
            name, _ = callee_and_arguments(node)
            symbol = scope.lookup(name, node.start_byte) if name is not None else None
            if name is None or (symbol is not None and symbol.is_array):
                continue  # an array element
            effect = intrinsic_effect(name)
            if effect == "impure" or (effect is None and
                                      procedure_effect(file, name).kind != "pure"):
                return ProcedureEffect("unknown", reason=f"it calls {name}")
    return ProcedureEffect("pure", written)


def _root_name(target) -> str | None:
    node = target
    while node is not None and node.type in ("call_expression",
                                             "derived_type_member_expression"):
        parts = named(node)
        node = parts[0] if parts else None
    return lower(node) if node is not None and node.type == "identifier" else None


__all__ = ["ProcedureEffect", "procedure_effect", "unit_name"]
