"""The function a synthesized harness calls: found from the selected lines, its signature
read through the typed loop model's scope, and the reasons it cannot be called from a
harness (a member function, a template, a callee the file declares but never defines)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ellora.tools.loops.cpp import CppSource
from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.cxx_types import CType

_COMPARABLE_RETURNS = ("scalar", "bool", "complex", "string", "vector", "bool_vector",
                       "std_array", "struct", "auto")


class CannotSynthesize(ValueError):
    """No harness can be synthesized; the message says why, in the user's terms."""


@dataclass
class Param:
    """One parameter of the target function and the harness variable that stands for it."""

    name: str
    ctype: CType
    position: int

    @property
    def var(self) -> str:
        return f"p_{self.name}"

    @property
    def mutable(self) -> bool:
        """The function may change what the caller passed: a non-const reference, or a
        pointer to non-const elements."""
        if self.ctype.kind == "pointer":
            element = self.ctype.element
            return element is not None and not element.const
        return self.ctype.reference and not self.ctype.const


@dataclass
class Target:
    """The function under test: its definition node, call spelling, parameters, return type
    and the parsed file it lives in."""

    parsed: CppSource
    definition: object = field(repr=False)
    name: str = ""
    call: str = ""
    params: list[Param] = field(default_factory=list)
    returns: CType | None = None
    context: object = field(default=None, repr=False)

    @property
    def body(self):
        return self.definition.child_by_field_name("body")

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def find_target(source: str, first_line: int, last_line: int) -> Target:
    """The one function whose body holds the selected lines (or, when several do, the one
    none of the others calls); CannotSynthesize when there is none or it cannot be called."""
    parsed = CppSource(source)
    definitions = [n for n in walk(parsed.tree.root_node) if n.type == "function_definition"
                   and _overlaps(n, first_line, last_line)]
    definitions = [d for d in definitions if not _inside_other_function(d)]
    if not definitions:
        raise CannotSynthesize("the selected lines are not inside a function")
    if len(definitions) > 1:
        definitions = _not_called_by_others(definitions)
    if len(definitions) != 1:
        names = ", ".join(sorted({_name(d) for d in definitions}))
        raise CannotSynthesize(f"the selection spans several functions ({names}): select the "
                               "lines of one")
    return _read_target(parsed, definitions[0])


def instantiated(source: str, first_line: int, last_line: int) -> tuple[str, str]:
    """When the function holding the lines is a template over type parameters only: the
    source with it instantiated in place (the template header blanked, each parameter
    spelled as its argument; lines unchanged) and the template arguments the harness calls
    it with (``<double>``). The arguments are those of an explicit instantiation in the
    file, else ``double`` for each: the element type numeric kernels are usually run at.
    Otherwise ``(source, "")``, and the template is refused as before."""
    parsed = CppSource(source)
    for node in walk(parsed.tree.root_node):
        if node.type != "template_declaration":
            continue
        definition = next((c for c in node.named_children if c.type == "function_definition"),
                          None)
        if definition is None or not _overlaps(definition, first_line, last_line):
            continue
        names = _type_parameters(node)
        if not names:
            return source, ""
        arguments = _explicit_instantiation(parsed, _name(definition), len(names)) or \
            ["double"] * len(names)
        spelled = text(definition)
        for name, argument in zip(names, arguments):
            spelled = re.sub(rf"\b{re.escape(name)}\b", argument, spelled)
        data = source.encode()
        header = re.sub(rb"[^\n]", b" ", data[node.start_byte:definition.start_byte])
        rewritten = data[:node.start_byte] + header + spelled.encode() + \
            data[definition.end_byte:]
        return rewritten.decode(), "<" + ", ".join(arguments) + ">"
    return source, ""


def _type_parameters(template) -> list[str]:
    """The names of a template's parameters when every one is a plain type parameter
    (``typename T``, ``class T``); empty otherwise (non-type, defaulted or variadic)."""
    parameters = template.child_by_field_name("parameters")
    names = []
    for parameter in parameters.named_children if parameters is not None else []:
        if parameter.type == "comment":
            continue
        identifiers = [c for c in parameter.named_children if c.type == "type_identifier"]
        if parameter.type != "type_parameter_declaration" or len(identifiers) != 1:
            return []
        names.append(text(identifiers[0]))
    return names


def _explicit_instantiation(parsed: CppSource, name: str, count: int) -> list[str] | None:
    """The template arguments of the file's first explicit instantiation of ``name``
    (``template void f<double>(...);``), when it spells all ``count`` of them."""
    for node in walk(parsed.tree.root_node):
        if node.type != "template_instantiation":
            continue
        found = re.search(rf"\b{re.escape(name)}\s*<([^<>]*)>", text(node))
        if found:
            arguments = [a.strip() for a in found.group(1).split(",") if a.strip()]
            if len(arguments) == count:
                return arguments
    return None


def _overlaps(node, first_line: int, last_line: int) -> bool:
    start, end = node.start_point[0] + 1, node.end_point[0] + 1
    return start <= last_line and first_line <= end


def _inside_other_function(node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("function_definition", "lambda_expression"):
            return True
        parent = parent.parent
    return False


def _name(definition) -> str:
    from ellora.tools.loops.cpp.scope import function_name

    return function_name(definition) or "?"


def _not_called_by_others(definitions: list) -> list:
    names = {_name(d) for d in definitions}
    called = set()
    for definition in definitions:
        own = _name(definition)
        for node in walk(definition):
            if node.type == "call_expression":
                callee = node.child_by_field_name("function")
                if callee is not None and text(callee) in names and text(callee) != own:
                    called.add(text(callee))
    return [d for d in definitions if _name(d) not in called]


def _read_target(parsed: CppSource, definition) -> Target:
    name = _name(definition)
    _check_callable(definition, name)
    context = parsed.context_for(definition)
    scope = context.scope
    params = [Param(n, s.ctype, i) for i, (n, s) in enumerate(scope.parameters.items())]
    declared = _declared_parameter_count(definition)
    if declared != len(params):
        raise CannotSynthesize(f"{name}() has a parameter the harness cannot read (unnamed, "
                               "variadic or a function pointer)")
    returns = scope.return_type
    if returns is not None and returns.name == "void":
        returns = None
    declarator = definition.child_by_field_name("declarator")
    if returns is not None and declarator is not None and \
            declarator.type == "pointer_declarator":
        raise CannotSynthesize(f"{name}() returns a pointer, which a harness cannot compare")
    if returns is not None and returns.kind not in _COMPARABLE_RETURNS:
        raise CannotSynthesize(f"{name}() returns {returns.name}, which a harness cannot "
                               "compare (a pointer, a map, an unknown type)")
    target = Target(parsed, definition, name, _call_spelling(definition, name), params,
                    returns, context)
    _check_callees(target)
    return target


def _check_callable(definition, name: str) -> None:
    declarator = definition.child_by_field_name("declarator")
    spelled = text(declarator) if declarator is not None else ""
    parent = definition.parent
    while parent is not None:
        if parent.type in ("class_specifier", "struct_specifier", "field_declaration_list"):
            raise CannotSynthesize(f"{name}() is a member function: a harness needs an object "
                                   "to call it on")
        if parent.type == "template_declaration":
            raise CannotSynthesize(f"{name}() is a template: a harness cannot choose its "
                                   "template arguments")
        parent = parent.parent
    if "::" in spelled.split("(")[0]:
        raise CannotSynthesize(f"{name}() is defined out of its class or namespace "
                               f"({spelled.split('(')[0]}): a harness cannot tell how to call it")
    if name == "main":
        raise CannotSynthesize("the selection is inside main(): the file is a program")


def _declared_parameter_count(definition) -> int:
    for node in walk(definition.child_by_field_name("declarator") or definition):
        if node.type == "parameter_list":
            parameters = [p for p in node.named_children if p.type != "comment"]
            if len(parameters) == 1 and text(parameters[0]).strip() == "void":
                return 0
            return len(parameters)
    return 0


def _call_spelling(definition, name: str) -> str:
    """``name``, qualified by the namespaces around the definition."""
    spaces = []
    parent = definition.parent
    while parent is not None:
        if parent.type == "namespace_definition":
            space = parent.child_by_field_name("name")
            if space is None:
                raise CannotSynthesize(f"{name}() is in an anonymous namespace")
            spaces.insert(0, text(space))
        parent = parent.parent
    return "::".join([*spaces, name]) if spaces else f"::{name}"


def _check_callees(target: Target) -> None:
    """Functions the target calls that the file declares but does not define cannot be
    linked into a harness built from this file alone."""
    scope = target.context.scope.file
    for node in walk(target.body):
        if node.type != "call_expression":
            continue
        callee = node.child_by_field_name("function")
        if callee is None or callee.type != "identifier":
            continue
        name = text(callee)
        if name in scope.declared_functions and name not in scope.functions:
            raise CannotSynthesize(f"{target.name}() calls {name}(), which this file declares "
                                   "but does not define: a harness built from the file alone "
                                   "cannot link it")


def struct_members(target: Target, ctype: CType) -> dict[str, CType] | None:
    """The members of a struct type defined in the file, or None when it is not one."""
    name = re.sub(r"^(?:struct|class)\s+", "", ctype.name)
    return target.context.scope.file.structs.get(name)
