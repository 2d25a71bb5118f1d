"""Counted ``for`` loops of library code as free-standing kernels that compile on their own.

A library loop reads names its function declared (``HYPRE_Complex *x_data = ...``), library
types and macros. :func:`extract_kernels` turns each outermost counted loop of a function
into ``RET name(params) { locals; loop; return r; }``: the loop's free names become
parameters (pointers ``const`` when only read), library scalar types become C++ ones
(``HYPRE_Real`` -> ``double``), math macros become ``std::`` calls, counters declared
above the loop move into its header, scalars only used inside the loop become locals, and
the one scalar the function still reads after the loop is passed in and returned. A loop
that reaches anything else (a struct member, an unknown call or macro, a preprocessor
line, ``return``/``goto``) is left out, with the reason counted.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ellora.tools.loops.cpp import parse, text, walk

# Library scalar types (their default configurations) -> C++ types.
TYPE_MAP = {
    "HYPRE_Int": "int", "HYPRE_BigInt": "long long", "HYPRE_Real": "double",
    "HYPRE_Complex": "double", "HYPRE_Bool": "int",
    "sunrealtype": "double", "realtype": "double", "sunindextype": "long",
    "booleantype": "int", "sunbooleantype": "int",
    "PetscInt": "int", "PetscScalar": "double", "PetscReal": "double", "PetscBool": "int",
    "PetscMPIInt": "int", "PetscBLASInt": "int", "PetscCount": "long", "MatScalar": "double",
    "PetscInt64": "long long", "size_t": "std::size_t", "ptrdiff_t": "std::ptrdiff_t",
}
PRIMITIVES = {"int", "double", "float", "long", "short", "unsigned", "bool", "char",
              "long long", "unsigned int", "unsigned long", "long int", "long double",
              "std::size_t", "std::ptrdiff_t", "signed", "long long int", "unsigned long long"}
INTEGRAL = {"int", "long", "short", "unsigned", "long long", "unsigned int", "unsigned long",
            "long int", "std::size_t", "std::ptrdiff_t", "signed", "long long int",
            "unsigned long long", "char", "bool"}
# Calls a kernel may make: name -> (kind, C++ spelling). kind: "call" renames the function,
# "same" keeps the argument (real part, conjugate of a real), "square", "max"/"min".
CALL_MAP = {
    **{name: ("call", f"std::{name}") for name in (
        "sqrt", "fabs", "abs", "exp", "log", "pow", "sin", "cos", "tan", "floor", "ceil",
        "fmax", "fmin", "atan", "atan2", "tanh", "log10", "cbrt", "round", "trunc", "erf",
        "sinh", "cosh", "hypot", "copysign")},
    "PetscAbsScalar": ("call", "std::abs"), "PetscAbsReal": ("call", "std::abs"),
    "PetscAbsInt": ("call", "std::abs"), "PetscSqrtReal": ("call", "std::sqrt"),
    "PetscSqrtScalar": ("call", "std::sqrt"), "PetscExpReal": ("call", "std::exp"),
    "PetscExpScalar": ("call", "std::exp"), "PetscLogReal": ("call", "std::log"),
    "PetscPowReal": ("call", "std::pow"), "PetscPowScalar": ("call", "std::pow"),
    "PetscSinReal": ("call", "std::sin"), "PetscCosReal": ("call", "std::cos"),
    "PetscFloorReal": ("call", "std::floor"), "PetscCeilReal": ("call", "std::ceil"),
    "PetscRealPart": ("same", ""), "PetscConj": ("same", ""), "PetscRealPartComplex": ("same", ""),
    "PetscMax": ("max", ""), "PetscMin": ("min", ""), "PetscSqr": ("square", ""),
    "PetscSign": ("sign", ""),
    "hypre_abs": ("call", "std::abs"), "hypre_cabs": ("call", "std::abs"),
    "hypre_sqrt": ("call", "std::sqrt"), "hypre_pow": ("call", "std::pow"),
    "hypre_conj": ("same", ""), "hypre_creal": ("same", ""), "hypre_squared": ("square", ""),
    "hypre_max": ("max", ""), "hypre_min": ("min", ""),
    "SUNRabs": ("call", "std::abs"), "SUNRsqrt": ("call", "std::sqrt"),
    "SUNRexp": ("call", "std::exp"), "SUNRpowerR": ("call", "std::pow"),
    "SUNMAX": ("max", ""), "SUNMIN": ("min", ""), "SUNSQR": ("square", ""),
    "RAbs": ("call", "std::abs"), "RSqrt": ("call", "std::sqrt"), "RExp": ("call", "std::exp"),
}
MAX_LOOP_LINES = 30
MAX_LOOP_CHARS = 1400


class Unusable(ValueError):
    """A loop that cannot become a free-standing kernel; the message is the reason."""


@dataclass
class Decl:
    """A declared name: its base type (library spelling), pointer depth, array extents,
    ``const`` and where it was declared."""

    name: str
    base: str
    pointers: int = 0
    arrays: int = 0
    const: bool = False
    where: str = "local"
    order: int = 0
    extents: tuple[str, ...] = ()  # array sizes as written (local arrays)

    @property
    def depth(self) -> int:
        return self.pointers + self.arrays


@dataclass
class Kernel:
    """One extracted kernel: its source, name, and where it came from."""

    name: str
    source: str
    function: str  # the library function it was cut from
    line: int  # the loop's first line in the library file
    end_line: int
    params: list[str] = field(default_factory=list)
    result: str | None = None  # the returned scalar, if any
    uses_math: bool = False


@dataclass
class ExtractReport:
    """Loops seen and why the others were left out."""

    functions: int = 0
    loops: int = 0
    kept: int = 0
    reasons: Counter = field(default_factory=Counter)


def declared_names(node, where: str, start_order: int = 0) -> list[Decl]:
    """The names a ``declaration`` or ``parameter_declaration`` node declares."""
    base_parts, const = [], False
    for child in node.children:
        if child.type in ("primitive_type", "type_identifier", "sized_type_specifier",
                          "qualified_identifier"):
            base_parts.append(text(child))
        elif child.type == "type_qualifier" and text(child) == "const":
            const = True
    base = " ".join(base_parts)
    found = []
    for child in node.children:
        decl = _declarator(child, base, const, where)
        if decl is not None:
            decl.order = start_order + len(found)
            found.append(decl)
    return found


def _declarator(node, base: str, const: bool, where: str) -> Decl | None:
    pointers = arrays = 0
    extents: list[str] = []
    current = node
    while current is not None:
        kind = current.type
        if kind == "identifier":
            return Decl(text(current), base, pointers, arrays, const, where,
                        extents=tuple(reversed(extents)))
        if kind == "init_declarator":
            current = current.child_by_field_name("declarator")
        elif kind == "pointer_declarator":
            pointers += 1
            current = current.child_by_field_name("declarator")
        elif kind == "array_declarator":
            arrays += 1
            size = current.child_by_field_name("size")
            extents.append(text(size) if size is not None else "")
            current = current.child_by_field_name("declarator")
        else:
            return None
    return None


def function_declarations(definition) -> dict[str, Decl]:
    """Parameters and locals of a function, by name (the first declaration wins)."""
    names: dict[str, Decl] = {}
    declarator = definition.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator")
    order = 0
    if declarator is not None:
        for param in declarator.child_by_field_name("parameters").children:
            if param.type == "parameter_declaration":
                for decl in declared_names(param, "parameter", order):
                    names.setdefault(decl.name, decl)
                    order += 1
    body = definition.child_by_field_name("body")
    for node in walk(body):
        if node.type == "declaration" and not _inside_loop(node, body):
            for decl in declared_names(node, "local", order):
                names.setdefault(decl.name, decl)
                order += 1
    return names


def _inside_loop(node, stop) -> bool:
    current = node.parent
    while current is not None and current != stop:
        if current.type in ("for_statement", "while_statement", "do_statement"):
            return True
        current = current.parent
    return False


def cpp_type(base: str) -> str:
    """The C++ spelling of a (library) scalar type; Unusable when unknown."""
    base = " ".join(base.replace("const", "").split())
    mapped = TYPE_MAP.get(base, base)
    if mapped not in PRIMITIVES:
        raise Unusable(f"type {base or '?'}")
    return mapped


def function_name_of(definition) -> str:
    declarator = definition.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator")
    name = declarator.child_by_field_name("declarator") if declarator is not None else None
    return text(name) if name is not None else ""


def outer_loops(body) -> list:
    """``for`` loops of a function body not inside another loop."""
    return [node for node in walk(body)
            if node.type == "for_statement" and not _inside_loop(node, body)]


_FORBIDDEN = {
    "return_statement": "a return inside the loop", "goto_statement": "a goto",
    "field_expression": "a struct member", "string_literal": "a string",
    "pointer_expression": "pointer dereference or address-of", "sizeof_expression": "sizeof",
    "lambda_expression": "a lambda", "new_expression": "new", "char_literal": "a character",
    "concatenated_string": "a string", "switch_statement": "a switch",
    "qualified_identifier": "a qualified name", "template_function": "a template call",
}


def _assigned_targets(node) -> tuple[set[str], set[str]]:
    """(scalars written, array bases written) under ``node``."""
    scalars, arrays = set(), set()
    for sub in walk(node):
        if sub.type == "assignment_expression":
            target = sub.child_by_field_name("left")
        elif sub.type == "update_expression":
            target = sub.child_by_field_name("argument")
        else:
            continue
        while target is not None and target.type == "parenthesized_expression":
            target = target.named_children[0] if target.named_children else None
        if target is None:
            continue
        if target.type == "identifier":
            scalars.add(text(target))
        elif target.type == "subscript_expression":
            base = target
            while base.type == "subscript_expression":
                base = base.child_by_field_name("argument")
            if base.type == "identifier":
                arrays.add(text(base))
    return scalars, arrays


def _init_targets(init) -> list[str]:
    """The names a ``for`` initializer assigns (``i = 0`` or ``i = 0, j = 1``); empty when it
    is anything else."""
    parts, stack = [], [init]
    while stack:
        node = stack.pop(0)
        if node.type == "comma_expression":
            stack[:0] = list(node.named_children)
        else:
            parts.append(node)
    names = []
    for part in parts:
        left = part.child_by_field_name("left") if part.type == "assignment_expression" \
            else None
        if left is None or left.type != "identifier" or \
                text(part.child_by_field_name("operator") or part.children[1]) != "=":
            return []
        names.append(text(left))
    return names


def _names_after(definition, loop, name: str) -> bool:
    """Whether the function may read ``name``'s value after ``loop`` ends: its next
    occurrence (in text order) is not the left side of a plain ``=``."""
    body = definition.child_by_field_name("body")
    later = [node for node in walk(body) if node.type == "identifier" and text(node) == name
             and node.start_byte >= loop.end_byte]
    if not later:
        return False
    first = min(later, key=lambda node: node.start_byte)
    parent = first.parent
    return not (parent is not None and parent.type == "assignment_expression"
                and parent.child_by_field_name("left") == first
                and text(parent.child_by_field_name("operator") or parent.children[1]) == "=")


class _Kernelizer:
    """Turns one library loop into a free-standing kernel (see :func:`extract_kernels`)."""

    def __init__(self, source: bytes, definition, loop, decls: dict[str, Decl]):
        self.source, self.definition, self.loop, self.decls = source, definition, loop, decls
        self.counters: dict[str, str] = {}  # loop variable -> C++ type (moved into headers)
        self.init_nodes: set[int] = set()
        self.math = self.algorithm = False

    def build(self, name: str) -> Kernel:
        loop = self.loop
        lines = loop.end_point[0] - loop.start_point[0] + 1
        if lines > MAX_LOOP_LINES or loop.end_byte - loop.start_byte > MAX_LOOP_CHARS:
            raise Unusable("loop too long")
        self._check_nodes()
        inner = self._declared_inside()
        free = self._free_names(inner)
        scalars_written, arrays_written = _assigned_targets(loop)
        self._find_counters(free, scalars_written)
        params, locals_, result = self._classify(free, scalars_written, arrays_written)
        body = self._render(loop)
        return self._assemble(name, params, locals_, result, body)

    def _check_nodes(self) -> None:
        for node in walk(self.loop):
            if node.type in _FORBIDDEN:
                raise Unusable(_FORBIDDEN[node.type])
            if node.type.startswith("preproc"):
                raise Unusable("a preprocessor line in the loop")
            if node.type == "call_expression":
                function = node.child_by_field_name("function")
                called = text(function) if function is not None else "?"
                if function is None or function.type != "identifier" or called not in CALL_MAP:
                    raise Unusable(f"a call to {called.split('(')[0][:40]}")
                if CALL_MAP[called][0] == "sign":
                    raise Unusable(f"a call to {called}")

    def _declared_inside(self) -> set[str]:
        names = set()
        for node in walk(self.loop):
            if node.type == "declaration":
                for decl in declared_names(node, "inner"):
                    cpp_type(decl.base)  # Unusable when a library type is unknown
                    names.add(decl.name)
        return names

    def _free_names(self, inner: set[str]) -> list[str]:
        free: dict[str, None] = {}
        for node in walk(self.loop):
            if node.type != "identifier":
                continue
            parent = node.parent
            if parent is not None and parent.type == "call_expression" and \
                    parent.child_by_field_name("function") == node:
                continue
            name = text(node)
            if name in inner:
                continue
            if name not in self.decls:
                raise Unusable(f"a name declared outside the function ({name[:30]})")
            free[name] = None
        return list(free)

    def _find_counters(self, free: list[str], written: set[str]) -> None:
        """Loop variables declared above the loop, used only inside loops whose headers
        assign them, move into those headers (``for (i = 0; ...)`` -> ``for (int i = 0;``)."""
        inits = {}  # initializer start byte -> (node, names, type)
        for node in walk(self.loop):
            init = node.child_by_field_name("initializer") if node.type == "for_statement" \
                else None
            names = _init_targets(init) if init is not None else None
            if not names:
                continue
            decls = [self.decls.get(n) for n in names]
            if any(d is None or d.depth for d in decls):
                continue
            types = {cpp_type(d.base) for d in decls}
            if len(types) == 1 and types <= INTEGRAL and not any(
                    _names_after(self.definition, self.loop, n) for n in names):
                inits[init.start_byte] = (node, names, types.pop())
        while True:
            covered = {name for _, names, _ in inits.values() for name in names
                       if self._covered(name, inits)}
            kept = {k: v for k, v in inits.items() if set(v[1]) <= covered}
            if kept.keys() == inits.keys():
                break
            inits = kept
        self.init_nodes = set(inits)
        self.counters = {name: ctype for _, names, ctype in inits.values() for name in names}

    def _covered(self, name: str, inits: dict) -> bool:
        """Every use of ``name`` is inside a ``for`` whose initializer assigns it."""
        loops = [node for node, names, _ in inits.values() if name in names]
        for node in walk(self.loop):
            if node.type == "identifier" and text(node) == name and not any(
                    loop.start_byte <= node.start_byte < loop.end_byte for loop in loops):
                return False
        return True

    def _classify(self, free, scalars_written, arrays_written):
        params, locals_, results = [], [], []
        for name in sorted(free, key=lambda n: self.decls[n].order):
            decl = self.decls[name]
            ctype = cpp_type(decl.base)
            if decl.depth == 0:
                if name in self.counters:
                    continue
                if name in scalars_written:
                    if _names_after(self.definition, self.loop, name):
                        results.append(name)
                        params.append(f"{ctype} {name}")
                    else:
                        locals_.append(f"{ctype} {name} = 0;")
                    continue
                params.append(f"{'const ' if decl.const else ''}{ctype} {name}")
            elif decl.depth == 1:  # local arrays too: the caller gives them (set values)
                const = "" if name in arrays_written else "const "
                params.append(f"{const}{ctype}* {name}")
            elif decl.depth == 2:
                params.append(f"{ctype}** {name}" if name in arrays_written
                              else f"const {ctype}* const* {name}")
            else:
                raise Unusable(f"{name}: three levels of pointers")
        if len(results) > 1:
            raise Unusable(f"{len(results)} scalars are read after the loop")
        if results and self._is_counter(results[0]):
            raise Unusable("the loop variable is read after the loop")
        if not results and not any(n in arrays_written and self.decls[n].pointers
                                   for n in free):
            raise Unusable("nothing the loop writes is seen after it")
        return params, locals_, results[0] if results else None

    def _is_counter(self, name: str) -> bool:
        """Whether ``name`` is assigned by a ``for`` initializer in the loop."""
        return any(node.type == "for_statement" and
                   node.child_by_field_name("initializer") is not None and
                   name in _init_targets(node.child_by_field_name("initializer"))
                   for node in walk(self.loop))

    def _render(self, node) -> str:
        special = self._special(node)
        if special is not None:
            return special
        if node.child_count == 0:
            return text(node)
        return self._children(node)

    def _special(self, node) -> str | None:
        kind = node.type
        if kind in ("type_identifier", "primitive_type", "sized_type_specifier"):
            return cpp_type(text(node))
        if kind == "type_qualifier" and text(node) in ("restrict", "__restrict"):
            return ""
        if node.start_byte in self.init_nodes and node.type in ("assignment_expression",
                                                                "comma_expression"):
            name = _init_targets(node)[0]
            return f"{self.counters[name]} {self._children(node)}"
        if kind == "call_expression":
            return self._call(node)
        return None

    def _children(self, node) -> str:
        out, position = [], node.start_byte
        for child in node.children:
            out.append(self.source[position:child.start_byte].decode())
            out.append(self._render(child))
            position = child.end_byte
        out.append(self.source[position:node.end_byte].decode())
        return "".join(out)

    def _call(self, node) -> str:
        name = text(node.child_by_field_name("function"))
        how, spelling = CALL_MAP[name]
        args = [self._render(a) for a in node.child_by_field_name("arguments").named_children]
        if how == "call":
            self.math = True
            return f"{spelling}({', '.join(args)})"
        if how == "same" and len(args) == 1:
            return f"({args[0]})"
        if how == "square" and len(args) == 1:
            return f"(({args[0]}) * ({args[0]}))"
        if how in ("max", "min") and len(args) == 2:
            self.algorithm = True
            return f"std::{how}({args[0]}, {args[1]})"
        raise Unusable(f"a call to {name} with {len(args)} arguments")

    def _assemble(self, name, params, locals_, result, body) -> Kernel:
        column = self.loop.start_point[1]
        lines = (" " * column + body).expandtabs(8).splitlines()
        indent = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
        loop = "\n".join("  " + l[indent:] if l.strip() else "" for l in lines)
        ret = cpp_type(self.decls[result].base) if result else "void"
        includes = []
        code = "\n".join([*locals_, loop])
        if self.math or re.search(r"\bstd::abs\b", code):
            includes.append("#include <cmath>")
        if self.algorithm:
            includes.append("#include <algorithm>")
        if "std::size_t" in code or "std::size_t" in " ".join(params) or \
                "std::ptrdiff_t" in code + " ".join(params):
            includes.append("#include <cstddef>")
        head = "\n".join(includes) + ("\n\n" if includes else "")
        inner = "".join(f"  {d}\n" for d in locals_)
        tail = f"  return {result};\n" if result else ""
        source = f"{head}{ret} {name}({', '.join(params)}) {{\n{inner}{loop}\n{tail}}}\n"
        return Kernel(name, source, function_name_of(self.definition),
                      self.loop.start_point[0] + 1, self.loop.end_point[0] + 1,
                      [p.rsplit(" ", 1)[-1] for p in params], result, self.math)


def extract_kernels(source: str, report: ExtractReport | None = None) -> list[Kernel]:
    """Free-standing kernels of every outermost ``for`` loop of ``source``'s functions."""
    report = report if report is not None else ExtractReport()
    data = source.encode()
    tree = parse(source)
    kernels = []
    for definition in walk(tree.root_node):
        if definition.type != "function_definition":
            continue
        name = function_name_of(definition)
        body = definition.child_by_field_name("body")
        if not name or name == "main" or body is None or \
                not re.fullmatch(r"[A-Za-z_]\w*", name):
            continue
        report.functions += 1
        loops = outer_loops(body)
        decls = None
        for index, loop in enumerate(loops):
            report.loops += 1
            try:
                decls = decls if decls is not None else function_declarations(definition)
                kernel_name = name if len(loops) == 1 else f"{name}_loop{index + 1}"
                kernels.append(_Kernelizer(data, definition, loop, decls).build(kernel_name))
                report.kept += 1
            except Unusable as why:
                report.reasons[_reason_key(str(why))] += 1
            except (RecursionError, AttributeError, KeyError) as error:
                report.reasons[f"unreadable ({type(error).__name__})"] += 1
    return kernels


def _reason_key(reason: str) -> str:
    """Reasons grouped for counting (the called name or the type dropped)."""
    return re.sub(r"\(.*\)$", "", re.sub(r"(a call to|type) \S+", r"\1 ...", reason)).strip()
