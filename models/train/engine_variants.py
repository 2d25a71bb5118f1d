"""Variations of an extracted kernel, each a kernel in its own right (the engine plans and
verifies each one): consistently renamed names, another element type (``double`` ->
``float`` or ``int``), and ``std::vector`` parameters in place of raw pointers (the form
ParEval's and the built-in suite's functions take). Variations are seeded, so a data set is
reproducible.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

from ellora.models.train.engine_extract import Kernel
from ellora.tools.loops.cpp import parse, text, walk

LOOP_NAMES = ("i", "j", "k", "r", "c", "p", "q", "ii", "jj", "kk", "row", "col", "idx", "e",
              "t", "m", "b", "s", "l", "u")
ARRAY_NAMES = ("x", "y", "z", "a", "b", "u", "v", "w", "in", "out", "src", "dst", "data",
               "values", "vals", "coef", "rhs", "sol", "weights", "buf", "input", "output",
               "result", "xs", "ys", "mat", "vec", "lhs", "diag", "offsets", "indices", "cols",
               "rows", "ptr", "counts", "scores", "grid", "field", "mask", "keys", "perm",
               "map", "flags", "levels", "bins", "image", "signal", "temps")
SCALAR_NAMES = ("n", "m", "len", "count", "size", "N", "M", "alpha", "beta", "scale", "s",
                "factor", "lo", "hi", "first", "last", "start", "stop", "offset", "stride",
                "tol", "eps", "acc", "sum", "total", "val", "tmp", "width", "height", "nrows",
                "ncols", "nnz", "num", "limit", "base", "step", "shift", "rate", "gain", "c0")
RESERVED = {"int", "double", "float", "long", "short", "char", "bool", "void", "const", "for",
            "if", "else", "while", "do", "return", "break", "continue", "std", "size_t", "max",
            "min", "abs", "sqrt", "exp", "log", "pow", "sin", "cos", "vector", "unsigned",
            "signed", "auto", "static", "new", "delete", "this", "true", "false", "case"}
_PREFIXES = re.compile(r"^(hypre_|HYPRE_|Petsc|petsc_|SUN|N_V|sun)")


@dataclass(frozen=True)
class Variant:
    """A kernel text and how it was made from its base kernel."""

    name: str
    source: str
    how: str  # "base", or "+"-joined operations: rename, float, int, vector


def snake_name(name: str) -> str:
    """``hypre_CSRMatrixMatvecHost_loop3`` -> ``csr_matrix_matvec_host_3``."""
    name = _PREFIXES.sub("", name).replace("_loop", "_")
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"_+", "_", name).strip("_").lower()
    return name if re.match(r"[a-z_]", name) else f"kernel_{name}"


def _identifiers(tree) -> list:
    """Identifier nodes that are names of this kernel (not called functions, not ``std::``)."""
    found = []
    for node in walk(tree.root_node):
        if node.type != "identifier":
            continue
        parent = node.parent
        if parent is not None and parent.type in ("qualified_identifier", "namespace_identifier"):
            continue
        if parent is not None and parent.type == "call_expression" and \
                parent.child_by_field_name("function") == node:
            continue
        found.append(node)
    return found


def _roles(tree, function: str) -> dict[str, str]:
    """Each kernel name's role: loop (declared in a for header), array (subscripted or a
    pointer) or scalar."""
    roles: dict[str, str] = {}
    for node in walk(tree.root_node):
        if node.type == "for_statement":
            init = node.child_by_field_name("initializer")
            if init is not None and init.type == "declaration":
                for sub in walk(init):
                    if sub.type == "identifier" and sub.parent.type in (
                            "init_declarator", "declaration"):
                        roles.setdefault(text(sub), "loop")
        if node.type == "subscript_expression":
            base = node.child_by_field_name("argument")
            if base is not None and base.type == "identifier":
                roles.setdefault(text(base), "array")
    for node in _identifiers(tree):
        if text(node) != function:
            roles.setdefault(text(node), "scalar")
    return roles


def rename(source: str, function: str, new_function: str, rng: random.Random) -> str:
    """``source`` with every kernel name replaced by a fresh one of its role (and the
    function by ``new_function``)."""
    tree = parse(source)
    roles = _roles(tree, function)
    pools = {"loop": list(LOOP_NAMES), "array": list(ARRAY_NAMES),
             "scalar": list(SCALAR_NAMES)}
    for pool in pools.values():
        rng.shuffle(pool)
    taken: set[str] = {new_function}
    mapping = {function: new_function}
    for name, role in roles.items():
        choice = next((c for c in pools[role] if c not in taken and c not in roles), None)
        if choice is None:
            choice = next(f"{role[0]}{k}" for k in range(1, 1000)
                          if f"{role[0]}{k}" not in taken and f"{role[0]}{k}" not in roles)
        taken.add(choice)
        mapping[name] = choice
    edits = [(n.start_byte, n.end_byte, mapping[text(n)]) for n in _identifiers(tree)
             if text(n) in mapping]
    return _apply(source, edits)


def _apply(source: str, edits: list[tuple[int, int, str]]) -> str:
    data = source.encode()
    for start, end, new in sorted(edits, reverse=True):
        data = data[:start] + new.encode() + data[end:]
    return data.decode()


def retype(source: str, old: str, new: str) -> str:
    """Every ``old`` scalar type spelled in ``source`` (parameters, locals, casts) as
    ``new``."""
    tree = parse(source)
    edits = [(n.start_byte, n.end_byte, new) for n in walk(tree.root_node)
             if n.type == "primitive_type" and text(n) == old]
    return _apply(source, edits)


def can_be_int(source: str) -> bool:
    """Whether a floating kernel reads as well with integers: no math calls, no floating
    literals, no division (integer division would change what the loop means)."""
    return not re.search(r"std::\w+\(|\d\.\d*|\d[eE][-+]?\d|/", _code_only(source))


def _code_only(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.DOTALL)
    source = re.sub(r"//[^\n]*", " ", source)
    return "\n".join(l for l in source.splitlines() if not l.lstrip().startswith("#"))


def to_vectors(source: str, function: str, style: str = "const&") -> str | None:
    """Pointer parameters used only as ``p[...]`` become ``std::vector`` references
    (``const std::vector<T>&`` when read only; ``style`` "east" writes ``std::vector<T>
    const&`` as ParEval does); None when no parameter qualifies."""
    tree = parse(source)
    definition = next((n for n in walk(tree.root_node) if n.type == "function_definition"),
                      None)
    if definition is None:
        return None
    declarator = definition.child_by_field_name("declarator")
    params = declarator.child_by_field_name("parameters").named_children
    body = definition.child_by_field_name("body")
    edits = []
    for param in params:
        pointer = param.child_by_field_name("declarator")
        if pointer is None or pointer.type != "pointer_declarator":
            continue
        inner = pointer.child_by_field_name("declarator")
        if inner is None or inner.type != "identifier":
            continue
        name = text(inner)
        uses = [n for n in walk(body) if n.type == "identifier" and text(n) == name]
        if not uses or any(u.parent.type != "subscript_expression" or
                           u.parent.child_by_field_name("argument") != u for u in uses):
            continue
        element = text(param.child_by_field_name("type"))
        const = any(c.type == "type_qualifier" and text(c) == "const" for c in param.children)
        if not const:
            spelled = f"std::vector<{element}>& {name}"
        elif style == "east":
            spelled = f"std::vector<{element}> const& {name}"
        else:
            spelled = f"const std::vector<{element}>& {name}"
        edits.append((param.start_byte, param.end_byte, spelled))
    if not edits:
        return None
    result = _apply(source, edits)
    return result if "#include <vector>" in result else "#include <vector>\n" + (
        result if result.startswith("#") else "\n" + result)


def variants(kernel: Kernel, rng: random.Random, count: int = 2) -> list[Variant]:
    """The base kernel and up to ``count`` variations of it, chosen by ``rng``."""
    made = [Variant(kernel.name, kernel.source, "base")]
    floating = re.search(r"\bdouble\b", kernel.source) is not None
    recipes = ["rename+vector", "vector", "rename"]
    if floating:
        recipes += ["rename+float", "float+vector"]
        if can_be_int(kernel.source):
            recipes.append("rename+int")
    rng.shuffle(recipes)
    seen = {kernel.source}
    for how in recipes:
        if len(made) > count:
            break
        made_one = _make(kernel, how, rng)
        if made_one is not None and made_one.source not in seen:
            seen.add(made_one.source)
            made.append(made_one)
    return made


def _make(kernel: Kernel, how: str, rng: random.Random) -> Variant | None:
    name, source = kernel.name, kernel.source
    for step in how.split("+"):
        if step == "rename":
            new_name = snake_name(name)
            source, name = rename(source, name, new_name, rng), new_name
        elif step in ("float", "int"):
            source = retype(source, "double", step)
        elif step == "vector":
            converted = to_vectors(source, name, rng.choice(("const&", "east")))
            if converted is None:
                return None
            source = converted
    return Variant(name, source, how)


def kernel_of(variant: Variant, base: Kernel) -> Kernel:
    """``base``'s provenance with ``variant``'s name and text."""
    return replace(base, name=variant.name, source=variant.source)
