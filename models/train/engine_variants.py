"""Variations of an extracted kernel, each a kernel in its own right (the engine plans and
verifies each one): consistently renamed names, another element type (``double`` ->
``float`` or ``int``), ``std::vector`` parameters in place of raw pointers (the form
ParEval's and the built-in suite's functions take), sizes read from those vectors
(``int n = x.size();`` or ``i < x.size()``) instead of passed in, and a returned
accumulator declared and initialized in the body instead of passed in (C++ as it is
usually written: the extracted kernel takes both as parameters because the library
function declared them above the loop), and a returned sum folded with another operator
(product, maximum, minimum, count, any, all, xor: library code sums far more often than
it does anything else, and a model that has only seen ``reduction(+:...)`` writes it for
every fold). Variations are seeded, so a data set is reproducible.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

from ellora.models.train.config import FOLD_STEPS
from ellora.models.train.engine_extract import Kernel
from ellora.tools.loops.cpp import LOOP_TYPES, parse, text, walk

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
    how: str  # "base", or "+"-joined operations: rename, float, int, vector, size, local,
    #           or one of FOLDS


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
    return _with_include(result, "vector")


def _definition(tree):
    return next((n for n in walk(tree.root_node) if n.type == "function_definition"), None)


def _param_name(param) -> str | None:
    declarator = param.child_by_field_name("declarator")
    return text(declarator) if declarator is not None and declarator.type == "identifier" \
        else None


def _parameters_without(definition, drop) -> tuple[int, int, str]:
    """The edit that takes the parameter ``drop`` out of ``definition``'s list."""
    params = definition.child_by_field_name("declarator").child_by_field_name("parameters")
    kept = ", ".join(text(p) for p in params.named_children if p != drop)
    return params.start_byte, params.end_byte, f"({kept})"


def _without_param(source: str, definition, drop, declaration: str) -> str:
    """``source`` with the parameter ``drop`` taken out of the list and ``declaration``
    made the body's first statement (indented as the body's first line)."""
    body = definition.child_by_field_name("body")
    first = next(iter(body.named_children), None)
    indent = "    "
    if first is not None:
        line_start = source.encode().rfind(b"\n", 0, first.start_byte) + 1
        between = source.encode()[line_start:first.start_byte].decode()
        indent = between if not between.strip() else indent
    insert = body.start_byte + 1
    return _apply(source, [_parameters_without(definition, drop),
                           (insert, insert, f"\n{indent}{declaration}")])


def restricted(source: str, function: str) -> str | None:
    """``source`` with every pointer and container-reference parameter of ``function``
    declared ``__restrict__`` (GCC's restricted pointers and references: the caller
    promises they share no storage), or None when none is left to mark. The engine then
    proves the loop without a run-time overlap test; the question states the promise."""
    from ellora.tools.loops.cpp.scope import function_name
    from ellora.tools.loops.cxx_types import declared_type

    tree = parse(source)
    definition = next((n for n in walk(tree.root_node) if n.type == "function_definition"
                       and function_name(n) == function), None)
    if definition is None:
        return None
    params = definition.child_by_field_name("declarator").child_by_field_name("parameters")
    edits = []
    for param in params.named_children:
        declarator = param.child_by_field_name("declarator")
        if declarator is None or declarator.type not in ("pointer_declarator",
                                                         "reference_declarator"):
            continue
        _, ctype = declared_type(param, declarator)
        if ctype.restrict or not ctype.indexable:
            continue  # marked already, or a scalar passed by reference (nothing indexed)
        while declarator.child_by_field_name("declarator") is not None and \
                declarator.child_by_field_name("declarator").type == "pointer_declarator":
            declarator = declarator.child_by_field_name("declarator")  # the outermost '*'
        mark = declarator.children[0]  # '*' or '&'
        edits.append((mark.end_byte, mark.end_byte, " __restrict__ "))
    if not edits:
        return None
    return re.sub(r"__restrict__ \s+", "__restrict__ ", _apply(source, edits))


def _with_include(source: str, header: str) -> str:
    """``source`` with ``#include <header>`` first, unless it has it already."""
    line = f"#include <{header}>"
    if line in source:
        return source
    return f"{line}\n" + (source if source.startswith("#") else "\n" + source)


def _assigned(body, name: str) -> bool:
    for node in walk(body):
        if node.type == "assignment_expression":
            left = node.child_by_field_name("left")
            if left is not None and left.type == "identifier" and text(left) == name:
                return True
        if node.type == "update_expression" and any(
                c.type == "identifier" and text(c) == name for c in node.children):
            return True
    return False


def sized(source: str, function: str, rng: random.Random) -> str | None:
    """An integer size parameter ``n`` bounding a loop ``for (... i < n; ...)`` that
    subscripts a ``std::vector`` parameter ``v[i]`` is read from that vector instead:
    ``int n = v.size();`` as the body's first line, or, when the loop bounds are its only
    uses, ``i < v.size()`` in place of each (chosen by ``rng``); None when no parameter
    qualifies."""
    tree = parse(source)
    definition = _definition(tree)
    if definition is None:
        return None
    params = definition.child_by_field_name("declarator").child_by_field_name(
        "parameters").named_children
    body = definition.child_by_field_name("body")
    vectors = {re.findall(r"\w+", text(p))[-1] for p in params if "std::vector" in text(p)}
    sizes = {_param_name(p): p for p in params if _param_name(p) and "std::vector" not in
             text(p) and text(p.child_by_field_name("type")) in _INTEGER_TYPES}
    for node in walk(body):
        if node.type != "for_statement":
            continue
        condition = node.child_by_field_name("condition")
        if condition is None or condition.type != "binary_expression" or \
                text(condition.child_by_field_name("operator")) != "<":
            continue
        index, bound = (condition.child_by_field_name("left"),
                        condition.child_by_field_name("right"))
        if index.type != "identifier" or bound.type != "identifier" or \
                text(bound) not in sizes or _assigned(body, text(bound)):
            continue
        vector = next((text(s.child_by_field_name("argument")) for s in walk(node)
                       if s.type == "subscript_expression"
                       and text(s.child_by_field_name("argument")) in vectors
                       and text(s.child_by_field_name("indices") or s).strip("[] ")
                       == text(index)), None)
        if vector is None:
            continue
        name, param = text(bound), sizes[text(bound)]
        uses = [n for n in walk(body) if n.type == "identifier" and text(n) == name]
        loop_bounds = all(u.parent.type == "binary_expression" and
                          u.parent.child_by_field_name("right") == u and
                          text(u.parent.child_by_field_name("operator")) == "<" and
                          u.parent.parent is not None and
                          u.parent.parent.type == "for_statement" for u in uses)
        if loop_bounds and rng.random() < 0.5:
            return _apply(source, [_parameters_without(definition, param),
                                   *((u.start_byte, u.end_byte, f"{vector}.size()")
                                     for u in uses)])
        spelled = text(param.child_by_field_name("type"))
        return _without_param(source, definition, param, f"{spelled} {name} = {vector}.size();")
    return None


_INTEGER_TYPES = {"int", "long", "long long", "unsigned", "unsigned int", "unsigned long",
                  "std::size_t", "size_t", "long int", "long long int"}
# the value a reduction starts from, by the engine's operator ({t}: the accumulator's type)
_START_VALUES = {"+": "0", "^": "0", "|": "0", "*": "1", "&&": "true", "||": "false",
                 "max": "std::numeric_limits<{t}>::lowest()",
                 "min": "std::numeric_limits<{t}>::max()"}


def reduction_operators(source: str, tree=None) -> dict[str, set[str]]:
    """Each scalar the engine reads as a reduction in some loop of ``source``, with its
    operators (its legality model, tools/loops/legality/scalars.py: ``r += e``, ``++r``,
    ``r = r * e``, ``r = std::max(r, e)``, ``if (e < r) r = e;``, a flag set to one
    literal, ...). Every loop is asked, inner ones too; a loop that is not counted says
    nothing. ``tree``: ``source`` already parsed."""
    from ellora.tools.loops.cpp import CppSource
    from ellora.tools.loops.cpp.header import NotCounted
    from ellora.tools.loops.legality import decide

    parsed = CppSource(source, tree)
    found: dict[str, set[str]] = {}
    loops = [n for n in walk(parsed.tree.root_node) if n.type in LOOP_TYPES]
    for loop in loops:
        try:
            verdict = decide(parsed.loop_model(loop))
        except NotCounted:
            continue
        for reducer in verdict.reducers:
            found.setdefault(reducer.name, set()).add(reducer.operator)
    return found


def start_value(operator: str, spelled: str) -> str | None:
    """The identity of the reduction ``operator`` for the type ``spelled`` (0 and 1 are
    spelled false and true for a ``bool``); None for an operator without one here."""
    start = _START_VALUES.get(operator)
    if start is None:
        return None
    start = start.format(t=spelled)
    return {"0": "false", "1": "true"}.get(start, start) if spelled == "bool" else start


def _returned_parameter(definition):
    """(name, parameter) when the function's last statement returns one of its parameters
    (``return r;``), else None."""
    statements = definition.child_by_field_name("body").named_children
    last = statements[-1] if statements else None
    if last is None or last.type != "return_statement" or not last.named_children or \
            last.named_children[0].type != "identifier":
        return None
    name = text(last.named_children[0])
    params = definition.child_by_field_name("declarator").child_by_field_name(
        "parameters").named_children
    param = next((p for p in params if _param_name(p) == name), None)
    return (name, param) if param is not None else None


def local_result(source: str, function: str) -> str | None:
    """A kernel that takes its accumulator ``r`` by value and returns it declares it
    instead: ``T r = <identity>;`` as the body's first line, the identity of the reduction
    the engine reads for ``r`` (:func:`reduction_operators`), the parameter gone; None when
    the kernel returns no parameter or the engine does not read ``r`` as one reduction."""
    tree = parse(source)
    definition = _definition(tree)
    if definition is None:
        return None
    found = _returned_parameter(definition)
    if found is None:
        return None
    name, param = found
    operators = reduction_operators(source, tree).get(name, set())
    spelled = text(param.child_by_field_name("type"))
    start = start_value(next(iter(operators)), spelled) if len(operators) == 1 else None
    if start is None:
        return None
    result = _without_param(source, definition, param, f"{spelled} {name} = {start};")
    return _with_include(result, "limits") if "numeric_limits" in start else result


FOLDS = FOLD_STEPS
_PREDICATES = ("> 0", "< 0", "!= 0")
_SIDE_EFFECTS = re.compile(r"\+\+|--|(?<![=!<>])=(?!=)")
_EXTREMUM = re.compile(r"^(?:std::)?f?(?:max|min)$")


def _assignment_to(statement, name: str):
    """(operator, right-hand node) when ``statement`` (or a block holding only it) is
    ``name op= value;``, else None."""
    while statement.type == "compound_statement" and len(statement.named_children) == 1:
        statement = statement.named_children[0]
    node = statement.named_children[0] if statement.type == "expression_statement" and \
        statement.named_children else None
    if node is None or node.type != "assignment_expression" or \
            text(node.child_by_field_name("left")) != name:
        return None
    return text(node.child_by_field_name("operator")), node.child_by_field_name("right")


def _folded_value(statement, name: str) -> str | None:
    """``e`` when ``statement`` folds it into ``name`` (``name += e;``,
    ``name = std::max(name, e);``, ``if (e < name) name = e;`` and their mirrors), else
    None."""
    if statement.type == "if_statement":
        if statement.child_by_field_name("alternative") is not None:
            return None
        condition = statement.child_by_field_name("condition")
        compared = condition.named_children[0] if condition.named_children else None
        if compared is None or compared.type != "binary_expression" or \
                text(compared.child_by_field_name("operator")) not in ("<", ">", "<=", ">="):
            return None
        sides = {text(compared.child_by_field_name("left")),
                 text(compared.child_by_field_name("right"))}
        found = _assignment_to(statement.child_by_field_name("consequence"), name)
        if found is None or found[0] != "=":
            return None
        assigned = text(found[1])
        return assigned if sides == {assigned, name} else None
    found = _assignment_to(statement, name)
    if found is None:
        return None
    operator, right = found
    if operator == "+=":
        return text(right)
    if operator == "=" and right.type == "call_expression" and _EXTREMUM.match(
            text(right.child_by_field_name("function"))):
        args = [text(a) for a in right.child_by_field_name("arguments").named_children]
        others = [a for a in args if a != name]
        return others[0] if len(args) == 2 and len(others) == 1 else None
    return None


def _returned_fold(definition):
    """(name, parameter, the statement folding into it, the folded value) for a kernel
    that takes ``name`` by value, folds values into it in one statement and returns it;
    None otherwise."""
    found = _returned_parameter(definition)
    if found is None:
        return None
    name, param = found
    body = definition.child_by_field_name("body")
    uses = [n for n in walk(body) if n.type == "identifier" and text(n) == name]
    for node in walk(body):
        if node.type not in ("expression_statement", "if_statement"):
            continue
        value = _folded_value(node, name)
        if value is None or re.search(rf"\b{re.escape(name)}\b", value) or \
                _SIDE_EFFECTS.search(value):
            continue
        inside = [u for u in uses if node.start_byte <= u.start_byte < node.end_byte]
        if len(inside) + 1 == len(uses):  # every other use is the return
            return name, param, node, value
        return None
    return None


def refold(source: str, function: str, fold: str, rng: random.Random) -> str | None:
    """The same loop folding its values with another operator: a kernel that returns an
    accumulator ``r`` into which one statement folds a value ``e`` (a sum ``r += e;``, a
    running maximum or minimum) computes instead the sum, the product (``r *= e``), the
    largest or smallest ``e`` (``if (e > r) { r = e; }``), how many ``e`` satisfy a
    predicate (``if (e > 0) { ++r; }``, ``r`` an ``int``) or whether any, all or an odd
    number of them do (``r = r || (e > 0)``, ``&&``, ``^=``, ``r`` a ``bool``). Every one is
    a reduction the engine plans and the differential test checks like any other kernel.
    None when the kernel has no such accumulator, the engine does not read it as a
    reduction (:func:`reduction_operators`) or ``e`` has side effects."""
    tree = parse(source)
    definition = _definition(tree)
    found = _returned_fold(definition) if definition is not None else None
    if found is None or found[0] not in reduction_operators(source, tree):
        return None  # the statement is found here; that it is a reduction, the engine says
    name, param, statement, value = found
    predicate = f"{value} {rng.choice(_PREDICATES)}"
    rewritten = {
        "sum": f"{name} += {value};",
        "product": f"{name} *= {value};",
        "max": f"if ({value} > {name}) {{ {name} = {value}; }}",
        "min": f"if ({value} < {name}) {{ {name} = {value}; }}",
        "count": f"if ({predicate}) {{ ++{name}; }}",
        "any": f"{name} = {name} || ({predicate});",
        "all": f"{name} = {name} && ({predicate});",
        "xor": f"{name} ^= ({predicate});",
    }[fold]
    if statement.parent is not None and statement.parent.type != "compound_statement":
        rewritten = f"{{ {rewritten} }}"  # the body of an if or a loop: one statement
    edits = [(statement.start_byte, statement.end_byte, rewritten)]
    retyped = {"count": "int", "any": "bool", "all": "bool", "xor": "bool"}.get(fold)
    if retyped is not None:
        kind = param.child_by_field_name("type")
        edits.append((kind.start_byte, kind.end_byte, retyped))
        returns = definition.child_by_field_name("type")
        if text(returns) == text(kind):
            edits.append((returns.start_byte, returns.end_byte, retyped))
    return _apply(source, edits)


def variants(kernel: Kernel, rng: random.Random, count: int = 2,
             folds: int = 0) -> list[Variant]:
    """The base kernel and up to ``count`` variations of it, chosen by ``rng``."""
    made = [Variant(kernel.name, kernel.source, "base")]
    floating = re.search(r"\bdouble\b", kernel.source) is not None
    recipes = ["rename+vector", "vector", "rename"]
    if floating:
        recipes += ["rename+float", "float+vector"]
        if can_be_int(kernel.source):
            recipes.append("rename+int")
    rng.shuffle(recipes)
    # the usual C++ form first (sizes from the vectors, the accumulator a local); a recipe
    # whose step does not apply to this kernel makes nothing and the next one is tried
    idiomatic = ["rename+vector+size+local", "rename+vector+size", "rename+local"]
    if rng.random() < 0.5:
        idiomatic = [how.replace("rename+", "") for how in idiomatic]
    recipes = idiomatic + recipes
    seen = {kernel.source}

    def added(how: str) -> bool:
        """Make the variant ``how``; keep it when it is new."""
        made_one = _make(kernel, how, rng)
        if made_one is None or made_one.source in seen:
            return False
        seen.add(made_one.source)
        made.append(made_one)
        return True

    for how in recipes:
        if len(made) > count:
            break
        added(how)
    # a returned sum also makes up to ``folds`` kernels folding with other operators, in the
    # usual form (vectors, sizes from them, the accumulator a local) when the kernel has it
    kinds = list(FOLDS)
    rng.shuffle(kinds)
    folded = 0
    for fold in kinds:
        if folded >= folds:
            break
        renamed = "rename+" if rng.random() < 0.5 else ""
        shapes = ("vector+size+", "vector+", "")
        if any(added(f"{renamed}{shape}{fold}+local") for shape in shapes):
            folded += 1
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
        elif step == "size":
            source = sized(source, name, rng)
        elif step == "local":
            source = local_result(source, name)
        elif step in FOLDS:
            source = refold(source, name, step, rng)
        if source is None:
            return None
    return Variant(name, source, how)


def kernel_of(variant: Variant, base: Kernel) -> Kernel:
    """``base``'s provenance with ``variant``'s name and text."""
    return replace(base, name=variant.name, source=variant.source)
