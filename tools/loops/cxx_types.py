"""C/C++ declared types, read once from tree-sitter declarations.

A :class:`CType` says what a name *is* for the dependence rules and the emitters: a scalar,
a raw pointer, a C array, a standard container (``std::vector``, ``std::array``,
``std::span``, ``std::string``, ``std::vector<bool>``), a Kokkos View, a struct, or another
standard container (map, queue, ...). Qualifiers that matter are kept: ``const`` of the
object or the pointee, reference, ``__restrict__``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

SEQUENCE_CONTAINERS = {"vector", "array", "span", "valarray", "deque"}
STRING_TYPES = {"string", "basic_string", "wstring", "string_view"}
OTHER_CONTAINERS = {"map", "unordered_map", "set", "unordered_set", "multimap", "multiset",
                    "queue", "stack", "priority_queue", "list", "forward_list", "pair", "tuple",
                    "optional", "function", "unique_ptr", "shared_ptr"}
INTEGER_NAMES = {"int", "unsigned", "signed", "short", "long", "char", "size_t", "ssize_t",
                 "ptrdiff_t", "intptr_t", "uintptr_t", "int8_t", "int16_t", "int32_t",
                 "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "longlong",
                 "unsignedint", "unsignedlong", "unsignedlonglong", "unsignedchar",
                 "signedchar", "unsignedshort", "longint", "shortint", "std::size_t",
                 "std::ptrdiff_t", "std::int64_t", "std::uint64_t", "std::int32_t",
                 "std::uint32_t", "std::int8_t", "std::uint8_t", "std::int16_t",
                 "std::uint16_t", "Kokkos::size_t"}
FLOAT_NAMES = {"float", "double", "longdouble"}
_QUALIFIERS = {"const", "volatile", "constexpr", "static", "inline", "extern", "mutable",
               "register", "thread_local"}


@dataclass(frozen=True)
class CType:
    """One declared type. ``kind`` is one of: scalar, bool, complex, pointer, array,
    vector, bool_vector, std_array, span, string, view, struct, container, auto, unknown.
    ``element`` is the pointee / element type; ``name`` the spelling without top-level
    const and reference (``std::vector<double>``); ``const`` is top-level (for a pointer,
    the pointee's constness is ``element.const``)."""

    kind: str
    name: str
    element: CType | None = None
    const: bool = False
    reference: bool = False
    restrict: bool = False
    extent: str | None = None
    arguments: tuple[str, ...] = field(default=())

    @property
    def is_integer(self) -> bool:
        compact = _compact(self.name)
        return self.kind == "scalar" and (compact in INTEGER_NAMES or _integer_alias(compact))

    @property
    def is_unsigned(self) -> bool:
        compact = _compact(self.name)
        return self.kind == "bool" or (self.is_integer and (
            "unsigned" in compact or compact.endswith("::size_type") or compact.startswith((
                "size_t", "std::size_t", "uint", "std::uint", "Kokkos::size_t"))))

    @property
    def is_floating(self) -> bool:
        return self.kind == "scalar" and _compact(self.name) in FLOAT_NAMES

    @property
    def is_arithmetic(self) -> bool:
        return self.kind in ("scalar", "bool")

    @property
    def indexable(self) -> bool:
        """Elements reached with ``x[k]`` that are separate memory locations per k."""
        return self.kind in ("pointer", "array", "vector", "std_array", "span", "string",
                             "view", "bool_vector")

    @property
    def owns_storage(self) -> bool:
        """A container object whose elements no other container shares (a vector, array,
        string); a pointer, span or View only refers to storage owned elsewhere."""
        return self.kind in ("vector", "std_array", "string", "bool_vector", "array")

    def spelled(self, const: bool | None = None) -> str:
        """The C++ spelling of the value type, with ``const`` when asked (or declared)."""
        keep = self.const if const is None else const
        return f"const {self.name}" if keep and not self.name.startswith("const ") else self.name


def _compact(name: str) -> str:
    return re.sub(r"\s+", "", name.replace("const", ""))


def spelled(node) -> str:
    """A type's text with whitespace normalized: ``std::vector<double>``, ``unsigned int``."""
    raw = " ".join(node.text.decode().split())
    return re.sub(r"\s*([<>,:*&\[\]()])\s*", r"\1", raw).replace(",", ", ")


def _integer_alias(compact: str) -> bool:
    """A container's ``size_type`` / ``difference_type``, or ``std::int_fast32_t`` and the
    other fixed-width names."""
    return compact.endswith(("::size_type", "::difference_type")) or re.fullmatch(
        r"(std::)?u?int(_fast|_least)?(8|16|32|64)_t|(std::)?u?intmax_t", compact) is not None


def parse_type_text(text: str) -> CType:
    """A CType from a spelled base type (no declarator): the grammar of template arguments
    is read by text, since tree-sitter gives them as type descriptors."""
    text = " ".join(text.split())
    const = bool(re.match(r"^(const\s+)|.*\sconst$", text))
    text = re.sub(r"\bconst\b|\bvolatile\b", "", text).strip()
    text = re.sub(r"\s*([<>,:*&])\s*", r"\1", text).replace(",", ", ")
    if text.endswith("*") or text.endswith("&"):
        inner = parse_type_text(text[:-1])
        if text.endswith("&"):
            return replace(inner, reference=True, const=inner.const or const)
        return CType("pointer", text, element=inner, const=const)
    base, arguments = _template_parts(text)
    short = base.rsplit("::", 1)[-1]
    namespace = base[: -len(short)]
    if short in ("vector",) and namespace in ("std::", ""):
        element = parse_type_text(arguments[0]) if arguments else CType("unknown", "")
        kind = "bool_vector" if element.kind == "bool" else "vector"
        return CType(kind, text, element=element, const=const, arguments=tuple(arguments))
    if short in ("array",) and namespace in ("std::", ""):
        element = parse_type_text(arguments[0]) if arguments else CType("unknown", "")
        extent = arguments[1] if len(arguments) > 1 else None
        return CType("std_array", text, element=element, const=const, extent=extent,
                     arguments=tuple(arguments))
    if short in ("span", "valarray", "deque") and namespace in ("std::", ""):
        element = parse_type_text(arguments[0]) if arguments else CType("unknown", "")
        kind = "span" if short == "span" else "vector" if short == "valarray" else "container"
        return CType(kind, text, element=element, const=const, arguments=tuple(arguments))
    if short in STRING_TYPES and namespace in ("std::", ""):
        return CType("string", text, element=CType("scalar", "char"), const=const)
    if short == "complex" and namespace in ("std::", ""):
        element = parse_type_text(arguments[0]) if arguments else CType("scalar", "double")
        return CType("complex", text, element=element, const=const)
    if short == "View" and namespace == "Kokkos::":
        data = arguments[0] if arguments else ""
        element = parse_type_text(data.rstrip("*").rstrip("[]"))
        return CType("view", text, element=element, const=const, arguments=tuple(arguments))
    if short in OTHER_CONTAINERS:
        return CType("container", text, const=const, arguments=tuple(arguments))
    if text in ("auto", "decltype(auto)"):
        return CType("auto", text, const=const)
    if text == "bool":
        return CType("bool", "bool", const=const)
    compact = _compact(text)
    if compact in INTEGER_NAMES or compact in FLOAT_NAMES or re.fullmatch(
            r"(unsigned|signed|short|long|int|char|\s)+", text) or _integer_alias(compact):
        return CType("scalar", text, const=const)
    if re.fullmatch(r"[A-Za-z_][\w:]*", text):
        return CType("struct", text, const=const)
    return CType("unknown", text, const=const)


def _template_parts(text: str) -> tuple[str, list[str]]:
    """``std::array<size_t, 4>`` -> (``std::array``, [``size_t``, ``4``])."""
    if "<" not in text or not text.endswith(">"):
        return text, []
    base, inner = text[: text.index("<")], text[text.index("<") + 1 : -1]
    parts, depth, start = [], 0, 0
    for position, character in enumerate(inner):
        depth += {"<": 1, "(": 1, ">": -1, ")": -1}.get(character, 0)
        if character == "," and depth == 0:
            parts.append(inner[start:position].strip())
            start = position + 1
    parts.append(inner[start:].strip())
    return base, [p for p in parts if p]


def declared_type(declaration, declarator) -> tuple[str | None, CType]:
    """(name, type) of one declarator of a declaration or parameter node."""
    type_node = declaration.child_by_field_name("type")
    base_text = spelled(type_node) if type_node is not None else "unknown"
    qualifiers = {c.text.decode() for c in declaration.children if c.type == "type_qualifier"}
    base = parse_type_text(base_text)
    if "const" in qualifiers:
        base = replace(base, const=True)
    return _apply_declarator(base, declarator)


def _apply_declarator(base: CType, node) -> tuple[str | None, CType]:
    if node is None:
        return None, base
    kind = node.type
    if kind in ("identifier", "field_identifier"):
        return node.text.decode(), base
    if kind == "init_declarator":
        return _apply_declarator(base, node.child_by_field_name("declarator"))
    if kind == "reference_declarator":
        from ellora.tools.loops.cpp import RESTRICT_MARK

        inner = next((c for c in node.named_children if c.type != "comment"), None)
        restricted = any(c.type == "comment" and RESTRICT_MARK.fullmatch(c.text.decode())
                         for c in node.children)
        name, ctype = _apply_declarator(base, inner)
        return name, replace(ctype, reference=True, restrict=ctype.restrict or restricted)
    if kind == "pointer_declarator":
        qualifiers = {c.text.decode() for c in node.children if c.type == "type_qualifier"}
        pointer = CType("pointer", f"{base.spelled()}*", element=base,
                        const="const" in qualifiers,
                        restrict=bool(qualifiers & {"__restrict__", "__restrict", "restrict"}))
        return _apply_declarator(pointer, node.child_by_field_name("declarator"))
    if kind == "array_declarator":
        size = node.child_by_field_name("size")
        name, inner = _apply_declarator(base, node.child_by_field_name("declarator"))
        extent = size.text.decode() if size is not None else None
        # int a[3][4]: the outer declarator is read last, so the element nests inward
        return name, _nest_array(inner, extent)
    if kind == "function_declarator":  # std::vector<T> v(n); reads like a call declarator
        return _apply_declarator(base, node.child_by_field_name("declarator"))
    if kind in ("parenthesized_declarator",):
        inner = next((c for c in node.named_children), None)
        return _apply_declarator(base, inner)
    return None, base


def _nest_array(ctype: CType, extent: str | None) -> CType:
    if ctype.kind == "array":
        return replace(ctype, element=_nest_array(ctype.element, extent))
    return CType("array", f"{ctype.spelled()}[{extent or ''}]", element=ctype,
                 const=ctype.const, extent=extent)


def element_type(ctype: CType, depth: int = 1) -> CType | None:
    """The type reached by ``depth`` subscripts, or None when it is not indexable."""
    current: CType | None = ctype
    for _ in range(depth):
        if current is None or not current.indexable:
            return None
        current = current.element
    return current
