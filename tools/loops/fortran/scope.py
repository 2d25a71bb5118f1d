"""The names a Fortran procedure sees, read once: its dummy arguments (with ``intent``),
locals, the result variable, what its host (a containing procedure or program) and the
modules of the file it uses declare, ``implicit`` typing, and the procedures of the file.

Each declared name becomes a :class:`FSymbol`: its Fortran type (:class:`FType`, with the
kind in bytes when it can be worked out), its dimensions with their lower bounds, and the
attributes the aliasing rules need (``pointer``, ``target``, ``allocatable``, ``parameter``,
``save``, ``value``). A :class:`~ellora.tools.loops.cxx_types.CType` of the same shape is
kept beside it, so the language-neutral rules see one kind of type for both languages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ellora.tools.loops.cxx_types import CType
from ellora.tools.loops.fortran.syntax import (
    PROCEDURES,
    UNITS,
    lower,
    named,
    spelled,
    text,
    unit_name,
    walk,
)

_DEFAULT_KIND = {"integer": 4, "real": 4, "logical": 4, "complex": 4, "character": 1}
_NAMED_KINDS = {"real32": 4, "real64": 8, "real128": 16, "int8": 1, "int16": 2, "int32": 4,
                "int64": 8, "c_double": 8, "c_float": 4, "c_int": 4, "c_long": 8,
                "c_long_long": 8, "c_int64_t": 8, "c_int32_t": 4, "c_bool": 1, "c_short": 2,
                "c_size_t": 8, "c_double_complex": 8, "c_float_complex": 4}
_C_NAMES = {("integer", 1): "signed char", ("integer", 2): "short", ("integer", 4): "int",
            ("integer", 8): "long long", ("real", 4): "float", ("real", 8): "double",
            ("real", 10): "long double", ("real", 16): "long double"}
_ATTRIBUTES = ("pointer", "target", "allocatable", "parameter", "save", "value", "optional",
               "contiguous", "external", "intrinsic", "volatile", "asynchronous")


@dataclass(frozen=True)
class FType:
    """A Fortran type: ``base`` is integer, real, complex, logical, character or the
    derived type's name; ``kind`` its kind in bytes when known; ``spelling`` as declared."""

    base: str
    kind: int | None
    spelling: str

    @property
    def numeric(self) -> bool:
        return self.base in ("integer", "real", "complex")


@dataclass(frozen=True)
class Dimension:
    """One dimension: ``lower``/``upper`` texts (upper None for ``:`` or ``*``)."""

    lower: str
    upper: str | None


@dataclass
class FSymbol:
    """A declared (or implicitly typed) name. ``where``: parameter (a dummy argument),
    result, local, host (declared by the procedure or program around it) or global (a
    module variable); ``scope`` is the byte span where a ``block`` local is visible."""

    name: str
    ftype: FType
    where: str
    node: object = field(default=None, repr=False)
    dims: tuple[Dimension, ...] = ()
    intent: str | None = None
    attributes: frozenset[str] = frozenset()
    initializer: object = field(default=None, repr=False)
    scope: tuple[int, int] = (0, 1 << 62)
    value: int | None = None  # an integer named constant's value
    implicit: bool = False

    @property
    def is_array(self) -> bool:
        return bool(self.dims)

    @property
    def pointer(self) -> bool:
        return "pointer" in self.attributes

    @property
    def target(self) -> bool:
        return "target" in self.attributes

    @property
    def constant(self) -> bool:
        return "parameter" in self.attributes

    @property
    def ctype(self) -> CType:
        element = c_type(self.ftype)
        if self.dims:
            return CType("array", f"{element.name}[]", element=element,
                         const=self.intent == "in")
        return element if self.intent != "in" else CType(element.kind, element.name,
                                                         element.element, const=True)


def c_type(ftype: FType) -> CType:
    """The C view of a Fortran type, for the language-neutral rules."""
    if ftype.base == "logical":
        return CType("bool", "bool")
    if ftype.base == "complex":
        inner = "double" if ftype.kind == 8 else "float"
        return CType("complex", f"std::complex<{inner}>", element=CType("scalar", inner))
    if ftype.base == "character":
        return CType("scalar", "char")
    name = _C_NAMES.get((ftype.base, ftype.kind))
    if name is not None:
        return CType("scalar", name)
    if ftype.base in ("integer", "real"):
        return CType("unknown", ftype.spelling)
    return CType("struct", ftype.base)


@dataclass
class UnitScope:
    """What one program unit declares: symbols, whether ``implicit none`` is in force, the
    modules it uses (name -> only-list or None), the procedures it contains."""

    node: object = field(repr=False)
    name: str | None
    kind: str
    symbols: dict[str, FSymbol] = field(default_factory=dict)
    implicit_none: bool = False
    uses: dict[str, frozenset[str] | None] = field(default_factory=dict)
    host: UnitScope | None = None
    contained: dict[str, object] = field(default_factory=dict)


@dataclass
class FileScope:
    """Every program unit of the file, its procedures by name, and those declared pure or
    elemental (by definition or interface)."""

    units: dict[int, UnitScope] = field(default_factory=dict)  # by start byte
    modules: dict[str, UnitScope] = field(default_factory=dict)
    functions: dict[str, list] = field(default_factory=dict)  # name -> definition nodes
    declared_pure: set[str] = field(default_factory=set)
    interfaces: dict[str, object] = field(default_factory=dict)
    types: dict[str, dict[str, FSymbol]] = field(default_factory=dict)  # derived types


def read_file_scope(root) -> FileScope:
    scope = FileScope()
    _read_units(root, None, scope)
    for node in walk(root):
        if node.type == "derived_type_definition":
            _read_type(node, scope)
        if node.is_named and node.type in PROCEDURES:
            qualifiers = {lower(q) for q in named(node.named_children[0])
                          if q.type == "procedure_qualifier"} if node.named_children else set()
            name = unit_name(node)
            inside_interface = node.parent is not None and node.parent.type == "interface"
            if name is None:
                continue
            if qualifiers & {"pure", "elemental"}:
                scope.declared_pure.add(name)
            if inside_interface:
                scope.interfaces[name] = node
            else:
                scope.functions.setdefault(name, []).append(node)
    return scope


def _read_type(node, scope: FileScope) -> None:
    statement = next((c for c in node.named_children if c.type == "derived_type_statement"),
                     None)
    name = next((c for c in statement.named_children if c.type == "type_name"), None) \
        if statement is not None else None
    if name is None:
        return
    members: dict[str, FSymbol] = {}
    for declaration in node.named_children:
        if declaration.type == "variable_declaration":
            for symbol in _declared(declaration, None, [], None, None, scope):
                members[symbol.name] = symbol
    scope.types[lower(name)] = members


def _read_units(node, host: UnitScope | None, scope: FileScope) -> None:
    for child in node.named_children:
        if child.type in UNITS:
            if child.parent is not None and child.parent.type == "interface":
                continue
            unit = read_unit(child, host, scope)
            scope.units[child.start_byte] = unit
            if child.type == "module" and unit.name:
                scope.modules[unit.name] = unit
            if host is not None and unit.name and child.type in PROCEDURES:
                host.contained[unit.name] = child
            _read_units(child, unit, scope)
        elif child.type == "internal_procedures":
            _read_units(child, host if node.type not in UNITS else
                        scope.units.get(node.start_byte), scope)


def read_unit(node, host: UnitScope | None, scope: FileScope) -> UnitScope:
    """The declarations of one program unit (not of the units it contains)."""
    unit = UnitScope(node, unit_name(node), node.type, host=host)
    header = node.named_children[0] if node.named_children else None
    dummies = _dummies(header)
    result = _result_name(header, unit.name) if node.type == "function" else None
    attribute_statements = []
    for child in node.named_children:
        kind = child.type
        if kind == "implicit_statement" and "none" in text(child).lower():
            unit.implicit_none = True
        elif kind == "use_statement":
            module = next((c for c in child.named_children if c.type == "module_name"), None)
            items = next((c for c in child.named_children if c.type == "included_items"), None)
            if module is not None:
                only = frozenset(lower(c) for c in walk(items) if c.type == "identifier") \
                    if items is not None else None
                unit.uses[lower(module)] = only
        elif kind == "variable_declaration":
            for symbol in _declared(child, unit, dummies, result, host, scope):
                unit.symbols[symbol.name] = symbol
        elif kind in ("variable_modification", "save_statement", "parameter_statement"):
            attribute_statements.append(child)
    for statement in attribute_statements:
        _modify(statement, unit)
    if header is not None and header.child_by_field_name("type") is not None and result \
            and result not in unit.symbols:
        unit.symbols[result] = FSymbol(result, _ftype(header.child_by_field_name("type"),
                                                          unit, scope), "result", header)
    for name in dummies:
        if name in unit.symbols:
            unit.symbols[name].where = "parameter"
    if result and result in unit.symbols:
        unit.symbols[result].where = "result"
    for child in walk(node):  # block constructs: locals visible inside the block only
        if child.type == "block_construct" and _unit_of(child) == node:
            for declaration in child.named_children:
                if declaration.type == "variable_declaration":
                    for symbol in _declared(declaration, unit, [], None, host, scope):
                        symbol.scope = (child.start_byte, child.end_byte)
                        unit.symbols.setdefault(f"{symbol.name}@{child.start_byte}", symbol)
    return unit


def _unit_of(node):
    current = node.parent
    while current is not None and current.type not in UNITS:
        current = current.parent
    return current


def _dummies(header) -> list[str]:
    if header is None:
        return []
    parameters = header.child_by_field_name("parameters")
    return [lower(c) for c in parameters.named_children if c.type == "identifier"] \
        if parameters is not None else []


def _result_name(header, name: str | None) -> str | None:
    result = next((c for c in header.named_children if c.type == "function_result"), None) \
        if header is not None else None
    if result is not None:
        found = next((c for c in result.named_children if c.type == "identifier"), None)
        if found is not None:
            return lower(found)
    return name


def _declared(declaration, unit: UnitScope, dummies, result, host, scope) -> list[FSymbol]:
    ftype = _ftype(declaration.child_by_field_name("type"), unit, scope)
    attributes, intent, dims = set(), None, ()
    for qualifier in declaration.children_by_field_name("attribute"):
        word = text(qualifier).split("(")[0].strip().lower()
        if word == "intent":
            intent = "".join(text(qualifier).lower().split())[7:-1]
        elif word == "dimension":
            arguments = next((c for c in qualifier.named_children
                              if c.type == "argument_list"), None)
            dims = _dimensions(named(arguments)) if arguments is not None else ()
        elif word in _ATTRIBUTES:
            attributes.add(word)
    found = []
    for declarator in declaration.children_by_field_name("declarator"):
        name_node, own_dims, initializer = _declarator_parts(declarator)
        if name_node is None:
            continue
        name = lower(name_node)
        where = "parameter" if name in dummies else "result" if name == result else "local"
        symbol = FSymbol(name, ftype, where, declaration, own_dims or dims, intent,
                         frozenset(attributes), initializer)
        if symbol.constant and initializer is not None and ftype.base == "integer":
            symbol.value = constant_value(initializer, unit)
        found.append(symbol)
    return found


def _declarator_parts(declarator):
    """(name node, dimensions, initializer) of one declarator."""
    initializer = None
    if declarator.type in ("init_declarator", "pointer_init_declarator"):
        initializer = declarator.child_by_field_name("right")
        declarator = declarator.child_by_field_name("left") or declarator.named_children[0]
    if declarator.type == "sized_declarator":
        name = next((c for c in declarator.named_children if c.type == "identifier"), None)
        size = next((c for c in declarator.named_children if c.type == "size"), None)
        dims = _dimensions(named(size)) if size is not None else ()
        return name, dims, initializer
    if declarator.type == "identifier":
        return declarator, (), initializer
    return None, (), initializer


def _dimensions(parts) -> tuple[Dimension, ...]:
    dims = []
    for part in parts:
        if part.type == "extent_specifier":
            pieces = [spelled(c) for c in part.named_children]
            bounds = text(part).split(":")
            lower_text = pieces[0] if bounds[0].strip() and pieces else "1"
            upper_text = pieces[-1] if len(bounds) > 1 and bounds[1].strip() and pieces \
                else None
            dims.append(Dimension(lower_text, upper_text))
        elif part.type == "assumed_size":
            dims.append(Dimension("1", None))
        else:
            dims.append(Dimension("1", spelled(part)))
    return tuple(dims)


def _modify(statement, unit: UnitScope) -> None:
    """``intent(in) :: x``, ``dimension w(10)``, ``save :: k``, ``target :: t``."""
    if statement.type == "save_statement":
        names = [lower(c) for c in statement.named_children if c.type == "identifier"]
        for symbol in unit.symbols.values() if not names else \
                [unit.symbols[n] for n in names if n in unit.symbols]:
            symbol.attributes = symbol.attributes | {"save"}
        return
    qualifier = next((c for c in statement.named_children if c.type == "type_qualifier"), None)
    word = text(qualifier).split("(")[0].strip().lower() if qualifier is not None else ""
    for declarator in statement.children_by_field_name("declarator") or [
            c for c in statement.named_children if c.type in ("identifier", "sized_declarator")]:
        name_node, dims, _ = _declarator_parts(declarator)
        if name_node is None:
            continue
        name = lower(name_node)
        symbol = unit.symbols.get(name)
        if symbol is None:
            symbol = implicit_symbol(name, "local")
            unit.symbols[name] = symbol
        if dims:
            symbol.dims = dims
        if word == "intent":
            symbol.intent = "".join(text(qualifier).lower().split())[7:-1]
        elif word in _ATTRIBUTES:
            symbol.attributes = symbol.attributes | {word}


def _ftype(node, unit: UnitScope | None, scope: FileScope | None) -> FType:
    if node is None:
        return FType("real", 4, "real")
    spelling = spelled(node)
    if node.type == "derived_type":
        name = next((c for c in node.named_children if c.type == "type_name"), None)
        return FType(lower(name) if name is not None else spelling, None, spelling)
    words = spelling.replace("(", " ").replace("*", " ").split()
    base = words[0] if words else "real"
    if base == "double":
        return FType("complex" if "complex" in spelling else "real", 8, spelling)
    kind_node = node.child_by_field_name("kind")
    kind = _DEFAULT_KIND.get(base)
    if kind_node is not None:
        kind = kind_value(kind_node, unit, scope)
    return FType(base, kind, spelling)


def kind_value(kind_node, unit: UnitScope | None, scope: FileScope | None) -> int | None:
    """The kind in bytes of ``(8)``, ``(dp)``, ``(kind=real64)``, ``*8``; None if unknown."""
    inner = named(kind_node)
    if not inner:
        return None
    value = inner[0]
    if value.type == "keyword_argument":
        if lower(value.child_by_field_name("name")) != "kind":
            return None
        value = value.child_by_field_name("value")
    if value.type == "number_literal":
        try:
            return int(text(value))
        except ValueError:
            return None
    if value.type == "identifier":
        name = lower(value)
        if name in _NAMED_KINDS:
            return _NAMED_KINDS[name]
        symbol = lookup_in_units(name, unit, scope)
        if symbol is not None and symbol.initializer is not None:
            return kind_of_expression(symbol.initializer)
    if value.type == "call_expression":
        return kind_of_expression(value)
    return None


def kind_of_expression(node) -> int | None:
    """``kind(1.0d0)``, ``selected_real_kind(15)``, ``selected_int_kind(18)``, a literal."""
    from ellora.tools.loops.fortran.syntax import callee_and_arguments

    name, arguments = callee_and_arguments(node)
    if node.type == "number_literal":
        try:
            return int(text(node))
        except ValueError:
            return None
    if node.type == "identifier":
        return _NAMED_KINDS.get(lower(node))
    digits = [int(text(a)) for a in arguments if a.type == "number_literal"
              and text(a).isdigit()]
    if name == "kind" and arguments:
        literal = text(arguments[0]).lower()
        if "d" in literal:
            return 8
        if "_" in literal:
            suffix = literal.rsplit("_", 1)[1]
            return int(suffix) if suffix.isdigit() else _NAMED_KINDS.get(suffix)
        return 4  # a default real or integer literal
    if name == "selected_real_kind" and digits:
        precision = digits[0]
        return 4 if precision <= 6 else 8 if precision <= 15 else 10 if precision <= 18 \
            else 16
    if name == "selected_int_kind" and digits:
        digits_needed = digits[0]
        return 1 if digits_needed <= 2 else 2 if digits_needed <= 4 else 4 \
            if digits_needed <= 9 else 8 if digits_needed <= 18 else 16
    return None


def constant_value(node, unit: UnitScope | None) -> int | None:
    """An integer named constant's value: literals, other constants, + - * and parentheses."""
    kind = node.type
    if kind == "number_literal":
        spelling = text(node).split("_")[0]
        return int(spelling) if spelling.isdigit() else None
    if kind == "parenthesized_expression" and len(named(node)) == 1:
        return constant_value(named(node)[0], unit)
    if kind == "identifier":
        symbol = lookup_in_units(lower(node), unit, None)
        return symbol.value if symbol is not None and symbol.constant else None
    if kind == "unary_expression":
        inner = constant_value(node.child_by_field_name("argument"), unit)
        operator = text(node.child_by_field_name("operator"))
        return None if inner is None else -inner if operator == "-" else inner
    if kind == "math_expression":
        left = constant_value(node.child_by_field_name("left"), unit)
        right = constant_value(node.child_by_field_name("right"), unit)
        operator = text(node.child_by_field_name("operator"))
        if left is None or right is None:
            return None
        if operator == "+":
            return left + right
        if operator == "-":
            return left - right
        if operator == "*":
            return left * right
        if operator == "**" and 0 <= right < 64:
            return left ** right
    return None


def lookup_in_units(name: str, unit: UnitScope | None, scope: FileScope | None):
    """A name declared in ``unit``, its hosts or the modules they use."""
    current = unit
    while current is not None:
        if name in current.symbols:
            return current.symbols[name]
        for module_name, only in current.uses.items():
            module = scope.modules.get(module_name) if scope is not None else None
            if module is not None and (only is None or name in only) and \
                    name in module.symbols:
                return module.symbols[name]
        current = current.host
    return None


def implicit_symbol(name: str, where: str) -> FSymbol:
    """The implicitly typed variable ``name`` (i-n integer, otherwise real)."""
    base = "integer" if name[:1] in "ijklmn" else "real"
    return FSymbol(name, FType(base, 4, base), where, implicit=True)


class ProcedureScope:
    """The names one procedure (or main program) sees, innermost declaration first."""

    def __init__(self, unit: UnitScope, file: FileScope):
        self.unit, self.file, self.definition = unit, file, unit.node
        self.parameters = {n: s for n, s in unit.symbols.items() if s.where == "parameter"}
        self._implicit: dict[str, FSymbol] = {}

    @property
    def implicit_typing(self) -> bool:
        current = self.unit
        while current is not None:
            if current.implicit_none:
                return False
            current = current.host
        return True

    def lookup(self, name: str, at_byte: int = 0) -> FSymbol | None:
        """The declaration of ``name`` (lower-cased) visible at a byte offset."""
        for key, symbol in self.unit.symbols.items():
            if key.startswith(f"{name}@") and symbol.scope[0] <= at_byte < symbol.scope[1]:
                return symbol
        found = self.unit.symbols.get(name)
        if found is not None:
            return found
        outer = lookup_in_units(name, self.unit.host, self.file)
        if outer is None:
            outer = self._used(name)
        if outer is not None:
            return _as_outer(outer)
        if self.is_procedure(name):
            return None
        if self.implicit_typing:
            from ellora.tools.loops.fortran.intrinsics import is_intrinsic

            if is_intrinsic(name):
                return None
            if name not in self._implicit:
                self._implicit[name] = implicit_symbol(name, "local")
            return self._implicit[name]
        return None

    def _used(self, name: str) -> FSymbol | None:
        for module_name, only in self.unit.uses.items():
            module = self.file.modules.get(module_name)
            if module is not None and (only is None or name in only):
                symbol = lookup_in_units(name, module, self.file)
                if symbol is not None:
                    return symbol
        return None

    def is_procedure(self, name: str) -> bool:
        """A procedure of the file or an interface it declares (not a variable)."""
        return name in self.file.functions or name in self.file.interfaces

    def declared_in(self, start: int, end: int) -> list[FSymbol]:
        """Locals of ``block`` constructs inside a byte span (a loop body)."""
        return [s for key, s in self.unit.symbols.items() if "@" in key
                and start <= s.scope[0] < end]

    @property
    def locals(self) -> list[FSymbol]:
        return [s for s in self.unit.symbols.values() if s.where == "local"]


def _as_outer(symbol: FSymbol) -> FSymbol:
    """A host's or module's variable as this procedure sees it (host association)."""
    if symbol.where in ("global", "host"):
        return symbol
    where = "global" if symbol.node is not None and _unit_of(symbol.node) is not None and \
        _unit_of(symbol.node).type == "module" else "host"
    return FSymbol(symbol.name, symbol.ftype, where, symbol.node, symbol.dims, None,
                   symbol.attributes, symbol.initializer, symbol.scope, symbol.value)


def read_procedure_scope(unit_node, file: FileScope) -> ProcedureScope:
    unit = file.units.get(unit_node.start_byte)
    if unit is None:
        unit = read_unit(unit_node, None, file)
    return ProcedureScope(unit, file)


__all__ = [
    "UNITS",
    "Dimension",
    "FSymbol",
    "FType",
    "FileScope",
    "ProcedureScope",
    "c_type",
    "read_file_scope",
    "read_procedure_scope",
]
