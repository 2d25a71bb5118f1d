"""Which functions defined in the file, and which lambdas, are pure: they compute a value
from their arguments (a lambda also from what it captures) and change nothing a caller can
see, so a loop may call them from several threads. One rule for both: a write may only
reach the callable's own locals and by-value parameters; a non-const reference or pointer
parameter, a static local or an impure call makes it impure."""

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
    return _changes_nothing_outside(definition, read_function_scope(definition, file_scope),
                                    file_scope)


def lambda_reads(node, file_scope: FileScope) -> dict[str, bool] | None:
    """The names of the enclosing function a pure lambda reads (what it captures, by copy or
    by reference), in order, each with whether the body uses it only as a value (never
    indexed, dereferenced, a member taken or passed on); None when the lambda is not pure: it
    writes a capture or through a reference or pointer parameter, is ``mutable``, uses
    ``this``, or calls something impure. The caller resolves the names in the lambda's
    enclosing scope."""
    body = node.child_by_field_name("body")
    if node.type != "lambda_expression" or body is None:
        return None
    head = text(node)[: body.start_byte - node.start_byte]
    if re.search(r"\bmutable\b|\bthis\b", head) or \
            any(n.type == "this" for n in walk(body)):
        return None
    scope = read_function_scope(node, file_scope)
    if not _changes_nothing_outside(node, scope, file_scope):
        return None
    return captured_names(node, file_scope)


def captured_names(node, file_scope: FileScope) -> dict[str, bool]:
    """The names a lambda's body uses that it does not declare, each with whether it is used
    only as a value (see :func:`lambda_reads`)."""
    body = node.child_by_field_name("body")
    scope = read_function_scope(node, file_scope)
    own = set(scope.parameters) | {s.name for s in scope.locals}
    captured: dict[str, bool] = {}
    for found in walk(body):
        if found.type != "identifier" or text(found) in own:
            continue
        parent = found.parent
        if parent is not None and (parent.type == "qualified_identifier" or (
                parent.type == "call_expression" and
                parent.child_by_field_name("function") == found)):
            continue  # std::name, or the name of a function called
        as_value = parent is None or parent.type not in (
            "subscript_expression", "pointer_expression", "field_expression", "argument_list",
            "init_declarator", "reference_declarator")
        captured[text(found)] = captured.get(text(found), True) and as_value
    return captured


def _changes_nothing_outside(definition, scope, file_scope: FileScope) -> bool:
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
            bare = strip(target) or target
            root = re.match(r"\w+", normalized(bare))
            if root is None or root.group(0) not in owned:
                return False
            if bare.type != "identifier" and not _owns_storage(scope, root.group(0)):
                return False  # p[k] = v through a local pointer (or auto) may reach outside
        if node.type == "call_expression" and not _pure_call(node, owned, file_scope):
            return False
    return True


def _owns_storage(scope, name: str) -> bool:
    """Whether a local or by-value parameter holds its elements itself (an array, a
    container, a struct), so writing one of them changes nothing outside."""
    symbol = next((s for s in scope.locals if s.name == name), None) or \
        scope.parameters.get(name)
    return symbol is not None and not symbol.ctype.reference and \
        symbol.ctype.kind not in ("pointer", "span", "auto", "unknown")


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
