"""Which functions defined in the file are pure: they compute a value from their arguments
and change nothing a caller can see, so a loop may call them from several threads."""

from __future__ import annotations

import re

from ellora.tools.loops.calls import CONST_MEMBERS, classify_name
from ellora.tools.loops.cpp.reader import normalized, strip
from ellora.tools.loops.cpp.scope import FileScope, read_function_scope, text, walk

_CACHE_ATTRIBUTE = "_ellora_purity"


def function_effect(file_scope: FileScope, name: str) -> str:
    """``user_pure`` when every definition of ``name`` in the file is pure, else
    ``unknown`` (not defined here, writes through an argument or a global, calls something
    impure)."""
    cache = getattr(file_scope, _CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = {}
        setattr(file_scope, _CACHE_ATTRIBUTE, cache)
    if name not in cache:
        cache[name] = "pending"  # a recursive call is judged by the rest of the body
        definitions = file_scope.functions.get(name, [])
        pure = bool(definitions) and all(_pure(d, file_scope) for d in definitions)
        cache[name] = "user_pure" if pure else "unknown"
    return "user_pure" if cache[name] in ("user_pure", "pending") else "unknown"


def _pure(definition, file_scope: FileScope) -> bool:
    scope = read_function_scope(definition, file_scope)
    for parameter in scope.parameters.values():
        ctype = parameter.ctype
        if ctype.reference and not ctype.const:
            return False
        if ctype.kind == "pointer" and not (ctype.element is not None and ctype.element.const):
            return False
    owned = {s.name for s in scope.locals if not s.is_static}
    owned |= {n for n, s in scope.parameters.items() if not s.ctype.reference
              and s.ctype.kind != "pointer"}
    if any(s.is_static for s in scope.locals):
        return False
    body = definition.child_by_field_name("body")
    for node in walk(body) if body is not None else []:
        target = None
        if node.type == "assignment_expression":
            target = node.child_by_field_name("left")
        elif node.type == "update_expression":
            target = node.child_by_field_name("argument")
        if target is not None:
            root = re.match(r"\w+", normalized(strip(target) or target))
            if root is None or root.group(0) not in owned:
                return False
        if node.type == "call_expression" and not _pure_call(node, owned, file_scope):
            return False
    return True


def _pure_call(node, owned: set[str], file_scope: FileScope) -> bool:
    function = node.child_by_field_name("function")
    if function is None:
        return False
    if function.type == "field_expression":
        owner = normalized(function.child_by_field_name("argument"))
        member = text(function.child_by_field_name("field"))
        return member in CONST_MEMBERS or re.match(r"\w+", owner) is not None and \
            re.match(r"\w+", owner).group(0) in owned
    spelled = normalized(function)
    name = re.sub(r"<.*>", "", spelled)
    if re.fullmatch(r"(?:static|reinterpret|const)_cast<.*>", spelled):
        return True
    if classify_name(name) in ("pure", "reads"):
        return True
    if name in file_scope.structs or re.fullmatch(r"(?:std::)?complex", name):
        return True
    return function_effect(file_scope, name.split("::")[-1]) == "user_pure"
