"""The names a C/C++ function sees, read once: parameters, locals with their scopes, the
file's globals, struct members and the other functions defined in the file."""

from __future__ import annotations

from dataclasses import dataclass, field

from ellora.tools.loops.cxx_types import CType, declared_type, parse_type_text

_DECLARATOR_TYPES = ("init_declarator", "identifier", "pointer_declarator",
                     "reference_declarator", "array_declarator", "function_declarator")
_SCOPES = ("compound_statement", "for_statement", "for_range_loop", "while_statement",
           "if_statement", "function_definition", "lambda_expression", "switch_statement",
           "do_statement", "catch_clause")


@dataclass
class Symbol:
    """A declared name. ``where``: parameter, local or global. ``scope`` is the byte span in
    which the declaration is visible (from the declaration to the end of its block)."""

    name: str
    ctype: CType
    where: str
    node: object = field(repr=False)
    scope: tuple[int, int] = (0, 0)
    initializer: object = field(default=None, repr=False)
    is_static: bool = False


@dataclass
class FileScope:
    """What a whole translation unit declares at file level."""

    globals: dict[str, Symbol] = field(default_factory=dict)
    structs: dict[str, dict[str, CType]] = field(default_factory=dict)
    functions: dict[str, list] = field(default_factory=dict)  # name -> definition nodes
    declared_functions: set[str] = field(default_factory=set)  # prototypes only
    macros: dict = field(default_factory=dict)  # arithmetic function-like macros (macros.py)


def text(node) -> str:
    return node.text.decode()


def walk(node):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def read_file_scope(root) -> FileScope:
    """Globals, struct members and function definitions at file (and namespace) level."""
    from ellora.tools.loops.cpp.macros import read_macros

    scope = FileScope(macros=read_macros(root))
    for node in _top_level(root):
        if node.type == "function_definition":
            name = function_name(node)
            if name:
                scope.functions.setdefault(name, []).append(node)
        elif node.type in ("declaration", "field_declaration"):
            for child in node.children:
                if child.type == "function_declarator":
                    declarator = child.child_by_field_name("declarator")
                    if declarator is not None:
                        scope.declared_functions.add(text(declarator))
                    continue
                if child.type in _DECLARATOR_TYPES:
                    name, ctype = declared_type(node, child)
                    if name:
                        scope.globals[name] = Symbol(name, ctype, "global", node,
                                                     (node.end_byte, root.end_byte),
                                                     _value_of(child))
            _read_structs(node, scope)
        elif node.type in ("struct_specifier", "class_specifier", "type_definition"):
            _read_structs(node, scope)
    return scope


def _top_level(root):
    for node in root.children:
        if node.type in ("namespace_definition", "linkage_specification"):
            body = node.child_by_field_name("body")
            if body is not None:
                yield from _top_level(body)
        elif node.type in ("preproc_ifdef", "preproc_if", "preproc_else"):
            yield from _top_level(node)
        else:
            yield node


def _read_structs(node, scope: FileScope) -> None:
    for found in walk(node):
        if found.type not in ("struct_specifier", "class_specifier"):
            continue
        name_node, body = found.child_by_field_name("name"), found.child_by_field_name("body")
        if name_node is None or body is None:
            continue
        members: dict[str, CType] = {}
        for field_node in body.named_children:
            if field_node.type != "field_declaration":
                continue
            for child in field_node.children:
                if child.type in ("field_identifier", "pointer_declarator", "array_declarator",
                                  "reference_declarator"):
                    member, ctype = declared_type(field_node, child)
                    if member:
                        members[member] = ctype
        scope.structs[text(name_node)] = members


def function_name(definition) -> str | None:
    for node in walk(definition.child_by_field_name("declarator") or definition):
        if node.type == "function_declarator":
            declarator = node.child_by_field_name("declarator")
            if declarator is not None:
                return text(declarator).split("::")[-1]
    return None


def _value_of(declarator):
    if declarator.type == "init_declarator":
        return declarator.child_by_field_name("value")
    return None


@dataclass
class FunctionScope:
    """The parameters and locals of one function definition, plus the file's scope."""

    definition: object = field(repr=False)
    file: FileScope
    parameters: dict[str, Symbol] = field(default_factory=dict)
    locals: list[Symbol] = field(default_factory=list)
    return_type: CType | None = None
    members: dict[str, Symbol] = field(default_factory=dict)  # of the class, in a method

    def lookup(self, name: str, at_byte: int) -> Symbol | None:
        """The declaration of ``name`` visible at a byte offset, innermost first."""
        best = None
        for symbol in self.locals:
            if symbol.name == name and symbol.scope[0] <= at_byte < symbol.scope[1]:
                if best is None or symbol.scope[0] >= best.scope[0]:
                    best = symbol
        if best is not None:
            return best
        if name in self.parameters:
            return self.parameters[name]
        if name in self.members:
            return self.members[name]
        return self.file.globals.get(name)

    def declared_in(self, start: int, end: int) -> list[Symbol]:
        """Locals declared inside a byte span (a loop body)."""
        return [s for s in self.locals if start <= s.node.start_byte < end]


def read_function_scope(definition, file_scope: FileScope) -> FunctionScope:
    scope = FunctionScope(definition, file_scope)
    type_node = definition.child_by_field_name("type")
    if type_node is not None:
        scope.return_type = parse_type_text(text(type_node))
    declarator = definition.child_by_field_name("declarator")
    for node in walk(declarator) if declarator is not None else []:
        if node.type == "parameter_list":
            for parameter in node.named_children:
                if parameter.type not in ("parameter_declaration",
                                          "optional_parameter_declaration"):
                    continue
                inner = parameter.child_by_field_name("declarator")
                name, ctype = declared_type(parameter, inner)
                if name:
                    scope.parameters[name] = Symbol(name, ctype, "parameter", parameter,
                                                    (definition.start_byte,
                                                     definition.end_byte))
            break
    owner = _class_of(definition)
    for name, ctype in file_scope.structs.get(owner, {}).items() if owner else ():
        scope.members[name] = Symbol(name, ctype, "member", definition,
                                     (definition.start_byte, definition.end_byte))
    body = definition.child_by_field_name("body")
    if body is not None:
        scope.locals = list(_locals(body))
    return scope


def _class_of(definition) -> str | None:
    """The class a member function belongs to: the class around its definition, or the
    qualifier of ``void Solver::relax()``."""
    parent = definition.parent
    while parent is not None:
        if parent.type in ("class_specifier", "struct_specifier"):
            name = parent.child_by_field_name("name")
            return text(name) if name is not None else None
        parent = parent.parent
    for node in walk(definition.child_by_field_name("declarator") or definition):
        if node.type == "function_declarator":
            declarator = node.child_by_field_name("declarator")
            if declarator is not None and declarator.type == "qualified_identifier":
                scope = declarator.child_by_field_name("scope")
                return text(scope).split("<")[0] if scope is not None else None
            return None
    return None


def _locals(body):
    for node in walk(body):
        if node.type == "declaration":
            block = _scope_of(node)
            is_static = any(c.type == "storage_class_specifier" and text(c) == "static"
                            for c in node.children)
            for child in node.children:
                if child.type in _DECLARATOR_TYPES:
                    name, ctype = declared_type(node, child)
                    if name:
                        yield Symbol(name, ctype, "local", node,
                                     (node.start_byte, block.end_byte), _value_of(child),
                                     is_static)
        elif node.type == "for_range_loop":
            declarator = node.child_by_field_name("declarator")
            name, ctype = declared_type(node, declarator)
            if name:
                yield Symbol(name, ctype, "local", node, (node.start_byte, node.end_byte),
                             node.child_by_field_name("right"))
        elif node.type == "lambda_expression":
            continue


def _scope_of(node):
    current = node.parent
    while current is not None and current.type not in _SCOPES:
        current = current.parent
    return current if current is not None else node
