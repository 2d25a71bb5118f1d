"""Index obligations of the target function, from the typed loop model and its text.

Every element access becomes an :class:`Obligation`: the candidates for the largest and the
smallest index it takes, as polynomials over the harness's free quantities only: scalar
parameters that bound loops (*dimensions*), container sizes (``x.size()``), members of
struct parameters, and *placeholders* for the values the harness chooses for inputs used as
indices (``col[k]``, ``A[i].row``, a scalar parameter used as an index). An index the rules
cannot bound stops the synthesis with its reason when it reaches an input; one into the
function's own local storage of unknown size is left to the function (noted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ellora.tools.loops.bounds import Interval, RangeEnv
from ellora.tools.loops.cpp.header import NotCounted
from ellora.tools.loops.cpp.reader import ExpressionReader, normalized, strip
from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.cxx_types import CType
from ellora.tools.loops.expr import Poly, is_atom
from ellora.tools.synthesis.clamps import clamped_call, find_clamps, find_hulls
from ellora.tools.synthesis.ranges import PLACEHOLDER, SymbolMap, Unbounded, index_candidates
from ellora.tools.synthesis.scan import Scan, literal_value, scan_function, value_path
from ellora.tools.synthesis.target import CannotSynthesize, Target

_LOAD_MEMBER = re.compile(r"\](?:\.|->)(\w+)$")


@dataclass
class Container:
    """Storage the function indexes. ``origin``: param, inner (the elements of a nested
    input), member (a container member of a struct parameter) or local. ``forced`` is an
    extent the function fixes (a declaration, a resize, a size it insists on)."""

    path: str
    ctype: CType | None
    origin: str
    forced: Poly | None = None
    exact: bool = False
    size_read: bool = False


@dataclass
class Obligation:
    """One index of one access must stay in ``[0, extent(container))``."""

    container: str
    upper: list[Poly]
    lower: list[Poly]
    where: str


@dataclass
class Facts:
    """Everything the domain solver reads about the target function."""

    target: Target
    scan: Scan
    mapping: SymbolMap
    containers: dict[str, Container] = field(default_factory=dict)
    obligations: list[Obligation] = field(default_factory=list)
    placeholders: dict[str, str] = field(default_factory=dict)  # name -> value source
    placeholder_of: dict[str, str] = field(default_factory=dict)  # atom or name -> placeholder
    dims: set[str] = field(default_factory=set)
    index_scalars: set[str] = field(default_factory=set)
    bound_sources: set[str] = field(default_factory=set)  # loads that bound loops
    requirements: list[tuple[Poly, str]] = field(default_factory=list)  # poly >= 0, why
    clamps: dict = field(default_factory=dict)  # clamped local -> Clamp
    clamp_ranges: dict[str, Interval] = field(default_factory=dict)  # its symbol -> range
    nonnegative_sources: set[str] = field(default_factory=set)  # inputs read as e % m
    degree: int = 1
    notes: list[str] = field(default_factory=list)
    mentioned: set[str] = field(default_factory=set)  # names the body uses

    @property
    def atoms(self):
        return self.target.context.atoms


def gather_facts(target: Target) -> Facts:
    """The obligations, dimensions and placeholders of ``target`` (CannotSynthesize when an
    input's index cannot be bounded)."""
    scan = scan_function(target)
    reader = ExpressionReader(target.context.atoms,
                              macros=getattr(target.context.scope.file, "macros", None))
    models = _loop_models(target)
    facts = Facts(target, scan, SymbolMap(lambda s: None))
    facts.mentioned = {text(n) for n in walk(target.body) if n.type == "identifier"}
    headers = {h.node.start_byte: h for m in models for h in (m.header, *m.inner)
               if h.node is not None}
    facts.clamps = {**find_hulls(target.body, reader, headers),
                    **find_clamps(target.body, reader)}
    facts.dims, facts.index_scalars = _classify_scalars(target, scan, models, reader,
                                                        facts.clamps)
    facts.mapping = SymbolMap(_replacer(facts, reader, set()))
    for clamp in facts.clamps.values():
        symbol = f"ellora_clamp_{clamp.name}"
        facts.clamp_ranges[symbol] = Interval(facts.mapping(clamp.lower),
                                              facts.mapping(clamp.upper))
        facts.requirements += [(facts.mapping(p), why) for p, why in clamp.requirements]
    _declare_containers(facts, reader)
    modeled_nodes = [m.node for m in models]
    for model in models:
        _model_obligations(facts, model, reader)
    _straight_line(facts, reader, modeled_nodes)
    for path, member, line in scan.fronts:
        where = f"{path}.{member}() (line {line})"
        facts.obligations.append(Obligation(path, [Poly()], [Poly()], where))
    for path, length, line in scan.ranges:  # (p, p + n): elements 0 .. n - 1 of p
        where = f"the first {' '.join(text(length).split())} elements of {path} (line {line})"
        try:
            last = facts.mapping(reader.read(length)) - Poly.const(1)
            _check_symbols(facts, [last])
        except Unbounded as why:
            _unbounded(facts, path, where, str(why))
            continue
        facts.obligations.append(Obligation(path, [last], [Poly()], where))
    _mark_sizes_read(facts)
    _wrap_checks(facts, reader)
    facts.degree = _work_degree(facts, models)
    return facts


def _loop_models(target: Target):
    parsed = target.parsed
    body = target.body
    first, last = body.start_point[0] + 1, body.end_point[0] + 1
    models = []
    for loop in parsed.loops_in_lines(first, last):
        if not (body.start_byte <= loop.start_byte < body.end_byte):
            continue
        try:
            models.append(parsed.loop_model(loop))
        except NotCounted:
            continue  # its accesses are read as straight-line code, their indices unbounded
    return models


def _integer_scalar(ctype: CType | None) -> bool:
    return ctype is not None and ctype.is_integer and not ctype.reference


def _classify_scalars(target: Target, scan: Scan, models, reader, clamps) -> tuple[set, set]:
    """Integer parameters that bound loops or size storage are dimensions; those that only
    offset an index are index values; parameters the function assigns are neither."""
    candidates = {p.name for p in target.params if _integer_scalar(p.ctype)
                  and p.name not in scan.assigned}
    in_bounds: set[str] = {n for clamp in clamps.values() for n in clamp.names}
    atoms = target.context.atoms
    for model in models:
        for header in (model.header, *model.inner):
            for poly in (header.lower, header.upper):
                in_bounds |= atoms.plain_names(poly)
    for node in (*scan.resized.values(), *scan.exact_sizes.values(),
                 *[n for n in scan.local_extents.values() if not isinstance(n, (tuple, str))],
                 *[length for _, length, _ in scan.ranges]):
        in_bounds |= {text(n) for n in walk(node) if n.type in ("identifier", "type_identifier")}
    scaled: set[str] = set()
    offsets: set[str] = set()
    for model in models:
        for access in model.accesses:
            for index in access.indices:
                for monomial in (index.terms if index is not None else {}):
                    names = {s for s in monomial if not is_atom(s)}
                    if len(monomial) > 1:
                        scaled |= names
                    else:
                        offsets |= names
    dims = candidates & (in_bounds | scaled)
    for name in candidates - dims:  # a parameter used only through a local's definition
        if any(name in {text(n) for n in walk(v) if n.type == "identifier"}
               for v in scan.definitions.values()):
            dims.add(name)
    index_scalars = (candidates - dims) & (offsets | _straight_index_names(target))
    return dims, index_scalars


def _straight_index_names(target: Target) -> set[str]:
    names = set()
    for node in walk(target.body):
        if node.type == "subscript_expression":
            indices = node.child_by_field_name("indices") or node.child(1)
            names |= {text(n) for n in walk(indices) if n.type == "identifier"}
    return names


def _replacer(facts: Facts, reader: ExpressionReader, loop_vars: set[str]):
    target, scan = facts.target, facts.scan
    atoms = target.context.atoms

    def replace(symbol: str) -> Poly | None:
        if symbol in loop_vars:
            return None
        if not is_atom(symbol):
            param = target.param(symbol)
            if param is not None:
                return _placeholder(facts, symbol, symbol) if symbol in facts.index_scalars \
                    else None
            if symbol in facts.clamps:
                return Poly.symbol(f"ellora_clamp_{symbol}")
            definition = scan.definitions.get(symbol)
            return reader.read(definition) if definition is not None else None
        atom = atoms.get(symbol)
        if atom.kind == "other":
            value = literal_value(strip(atom.node)) if atom.node is not None else None
            return Poly.const(int(value)) if value is not None and value == int(value) \
                else None
        if atom.kind in ("load", "member"):
            source = _load_source(facts, atom)
            return _placeholder(facts, symbol, source) if source is not None else None
        if atom.kind == "size" and atom.base in scan.resized:
            return reader.read(scan.resized[atom.base])
        if atom.kind == "modulo" and atom.node is not None:
            return _input_modulo(facts, reader, atom)
        if atom.kind == "call" and atom.node is not None:
            return _clamped_value(facts, atom, reader)
        return None

    return replace


def _clamped_value(facts: Facts, atom, reader: ExpressionReader) -> Poly | None:
    """``std::min(std::max(e, L), U)`` as an index: a symbol ranging over [L, U]."""
    clamp = clamped_call(atom.node, reader)
    if clamp is None:
        return None
    symbol = f"ellora_clamped_{len(facts.clamp_ranges)}"
    facts.clamp_ranges[symbol] = Interval(facts.mapping(clamp.lower), facts.mapping(clamp.upper))
    facts.requirements += [(facts.mapping(p), why) for p, why in clamp.requirements]
    return Poly.symbol(symbol)


def _input_modulo(facts: Facts, reader: ExpressionReader, atom) -> Poly | None:
    """``x[i] % m`` (input values, a positive modulus) lies in [0, m - 1] once the inputs it
    reads are generated non-negative; a symbol with that range stands for it."""
    left = facts.mapping(reader.read(atom.node.child_by_field_name("left")))
    modulus = facts.mapping(reader.read(atom.node.child_by_field_name("right")))
    sources = {facts.placeholders[s] for s in left.symbols() if s in facts.placeholders}
    if not sources or left.symbols() - set(facts.placeholders) or left.constant < 0 or \
            any(c <= 0 for m, c in left.terms.items() if m != ()):
        return None
    if modulus.const_value() is None and not (
            len(modulus.symbols()) == 1 and modulus.symbols() <= facts.dims):
        return None
    if modulus.const_value() is not None and modulus.const_value() <= 0:
        return None
    symbol = f"ellora_mod_{len(facts.clamp_ranges)}"
    facts.clamp_ranges[symbol] = Interval(Poly(), modulus - Poly.const(1))
    facts.nonnegative_sources |= sources
    if modulus.const_value() is None:
        facts.requirements.append((modulus - Poly.const(1),
                                   f"the modulus of {atom.text} must be positive"))
    return Poly.symbol(symbol)


def _placeholder(facts: Facts, key: str, source: str) -> Poly:
    """The placeholder standing for one load (or index parameter) of ``source``; distinct
    loads of the same input get distinct placeholders that share the input's range."""
    name = facts.placeholder_of.get(key)
    if name is None:
        name = f"{PLACEHOLDER}{len(facts.placeholders)}"
        facts.placeholder_of[key] = name
        facts.placeholders[name] = source
    return Poly.symbol(name)


def _load_source(facts: Facts, atom) -> str | None:
    """The input whose element value a load or member atom reads."""
    target, scan = facts.target, facts.scan
    spelled = atom.text.replace(" ", "")
    if atom.kind == "member":
        root, _, member = spelled.replace("->", ".").partition(".")
        if root in scan.aliases and re.fullmatch(r"\w+", member):
            return f"{scan.aliases[root].path}.{member}"
        return None
    base = atom.base
    if base is None:
        return None
    if base in scan.aliases:
        path = scan.aliases[base].path + "[]"
    elif target.param(base) is not None and target.param(base).ctype.indexable:
        path = base
    else:
        return None
    member = _LOAD_MEMBER.search(spelled)
    if member and spelled.count("[") == 1:
        return f"{path}.{member.group(1)}"
    return path if spelled.count("[") == 1 else None


def _declare_containers(facts: Facts, reader: ExpressionReader) -> None:
    target, scan = facts.target, facts.scan
    for param in target.params:
        if param.ctype.indexable:
            facts.containers[param.name] = Container(param.name, param.ctype, "param")
    for path, node in scan.resized.items():
        _container(facts, path).forced = facts.mapping(reader.read(node))
    for path, node in scan.exact_sizes.items():
        container = _container(facts, path)
        container.forced, container.exact = facts.mapping(reader.read(node)), True
    for name, size in scan.local_extents.items():
        if name in scan.local_unknown:
            continue
        if isinstance(size, tuple):  # a copy of an input: its size
            forced = facts.atoms.add(f"{size[1]}.size()", f"{size[1]}.size()", "size",
                                     base=size[1], nonnegative=True)
        elif isinstance(size, str):
            forced = Poly.const(int(size)) if size.isdigit() else None
        elif size.type in ("parameter_declaration", "type_identifier"):
            forced = facts.mapping(Poly.symbol(text(size).strip()))
        else:
            forced = facts.mapping(reader.read(size))
        if forced is not None:
            facts.containers[name] = Container(name, None, "local", forced)


def _container(facts: Facts, path: str) -> Container:
    if path not in facts.containers:
        origin = "inner" if path.endswith("[]") else "member"
        facts.containers[path] = Container(path, None, origin)
    return facts.containers[path]


def _model_obligations(facts: Facts, model, reader) -> None:
    loop_vars = {model.header.var, *(h.var for h in model.inner)}
    mapping = SymbolMap(_replacer(facts, reader, loop_vars))
    for header in (model.header, *model.inner):
        for poly in (header.lower, header.upper):
            facts.bound_sources |= {facts.placeholders[s] for s in mapping(poly).symbols()
                                    if s in facts.placeholders}
    for access in model.accesses:
        path = _access_path(facts, access.base)
        if path is None:
            continue
        if access.whole:
            _container(facts, path).size_read = True
            continue
        where = f"{access.base}[{']['.join(access.texts)}] (line " \
                f"{access.node.start_point[0] + 1 if access.node is not None else model.line})"
        for level, index in enumerate(access.indices):
            level_path = path + "[]" * level
            if level > 0 and _within_own_size(model, access, level):
                _container(facts, level_path).size_read = True  # any row length will do
                continue  # a row's element below that row's size: in range for any row
            try:
                if index is None:
                    raise Unbounded("the subscript is not an integer expression")
                found = index_candidates(model, access, index, mapping, facts.clamp_ranges)
                _check_symbols(facts, found.upper + found.lower)
            except Unbounded as why:
                _unbounded(facts, level_path, where, str(why))
                continue
            facts.obligations.append(Obligation(level_path, found.upper, found.lower, where))


def _within_own_size(model, access, level: int) -> bool:
    """``a[i][j]`` with ``j`` proved in [0, a[i].size()) by the loops around it: the row
    ``a[i]`` bounds its own index, whatever length the harness gives it."""
    from ellora.tools.loops.legality.arrays import access_env

    index = access.indices[level]
    if index is None or any(t == "?" for t in access.texts[:level]):
        return False
    row = access.base + "".join(f"[{t}]" for t in access.texts[:level])
    key = "".join(f"{row}.size()".split())
    atoms = model.function.atoms
    size = next((Poly.symbol(atom.key) for atom in atoms
                 if atom.kind == "size" and "".join(atom.text.split()) == key), None)
    if size is None:
        return False
    for header in (model.header, *access.loops):  # j counting over [lo, a[i].size())
        if index == Poly.symbol(header.var) and header.upper == size and \
                header.lower.const_value() is not None and header.lower.const_value() >= 0:
            return True
    return access_env(model, access).within(index, Poly(), size - Poly.const(1))


def _access_path(facts: Facts, base: str) -> str | None:
    """The container an access's base names (None for globals, which are not inputs)."""
    root = base.split(".")[0]
    if facts.target.param(root) is not None:
        return base
    if root in facts.scan.aliases:
        return facts.scan.aliases[root].path + "[]" + base[len(root):]
    if base in facts.containers or base in facts.scan.local_unknown:
        return base
    return None


def _unbounded(facts: Facts, path: str, where: str, why: str) -> None:
    """An index that cannot be bounded: fatal into an input, noted into local storage."""
    root = re.match(r"\w+", path)
    if root is not None and facts.target.param(root.group(0)) is not None:
        raise CannotSynthesize(f"the index in {where} cannot be bounded: {why}")
    facts.notes.append(f"{where}: indexes the function's own storage, left to it ({why})")


def _check_symbols(facts: Facts, polys: list[Poly]) -> None:
    for poly in polys:
        for symbol in poly.symbols():
            problem = _unknown_symbol(facts, symbol)
            if problem:
                raise Unbounded(problem)


def _unknown_symbol(facts: Facts, symbol: str) -> str | None:
    """Why a symbol left after the extremes is not something the harness sets, or None."""
    if symbol in facts.placeholders or symbol in facts.dims:
        return None
    if not is_atom(symbol):
        return f"it depends on {symbol}, whose value the analysis cannot bound"
    atom = facts.atoms.get(symbol)
    if atom.kind == "size" and atom.base is not None and (
            atom.base in facts.containers or facts.target.param(atom.base) is not None):
        return None
    if atom.kind == "member":
        root = atom.text.replace("->", ".").split(".")[0].strip()
        param = facts.target.param(root)
        if param is not None and param.ctype.kind == "struct":
            return None
    if atom.kind in ("division", "modulo") and atom.numerator is not None or (
            atom.kind == "modulo"):
        inner = facts.mapping(atom.numerator) if atom.numerator is not None else Poly()
        for name in inner.symbols():
            reason = _unknown_symbol(facts, name)
            if reason:
                return reason
        return None
    return f"it depends on {atom.text}, whose value the analysis cannot bound"


def _straight_line(facts: Facts, reader: ExpressionReader, modeled_nodes: list) -> None:
    """Accesses outside the modeled loops: their index is its own extreme."""
    def inside_model(node) -> bool:  # a lambda's body is not in the loop models
        if any(a.type == "lambda_expression" for a in _ancestors(node)):
            return False
        return any(m.start_byte <= node.start_byte < m.end_byte for m in modeled_nodes)

    for node in walk(facts.target.body):
        if node.type != "subscript_expression" or inside_model(node):
            continue
        if node.parent is not None and node.parent.type == "subscript_expression" and \
                node.parent.child_by_field_name("argument") == node:
            continue  # the inner part of a[i][j]: read with the whole access
        path, indices = _subscript_parts(facts, node)
        if path is None:
            continue
        where = f"{' '.join(text(node).split())} (line {node.start_point[0] + 1})"
        for level, index_node in enumerate(indices):
            level_path = path + "[]" * level
            try:
                poly = facts.mapping(reader.read(index_node)) if index_node is not None \
                    else None
                if poly is None:
                    raise Unbounded("the subscript is not an integer expression")
                upper, lower = _clamped_extremes(facts, poly)
                _check_symbols(facts, upper + lower)
            except Unbounded as why:
                _unbounded(facts, level_path, where, str(why))
                continue
            facts.obligations.append(Obligation(level_path, upper, lower, where))


def _clamped_extremes(facts: Facts, poly: Poly) -> tuple[list[Poly], list[Poly]]:
    """A straight-line index is its own extreme, once clamped locals take their ranges."""
    clamped = [s for s in poly.symbols() if s in facts.clamp_ranges]
    if not clamped:
        return [poly], [poly]
    env = RangeEnv(facts.atoms)
    for symbol in clamped:
        env = env.with_interval(symbol, facts.clamp_ranges[symbol])
    upper, lower = env.extremes(poly, lowest=False), env.extremes(poly, lowest=True)
    if upper is None or lower is None:
        raise Unbounded("a clamped value enters it in a way the range rules cannot follow")
    return upper, lower


def _ancestors(node):
    current = node.parent
    while current is not None:
        yield current
        current = current.parent


def _subscript_parts(facts: Facts, node) -> tuple[str | None, list]:
    indices, base = [], node
    while base is not None and base.type == "subscript_expression":
        argument = base.child_by_field_name("indices") or base.child(1)
        inner = [c for c in argument.named_children if c.type != "comment"]
        indices.insert(0, inner[0] if len(inner) == 1 else None)
        base = strip(base.child_by_field_name("argument"))
    if base is None:
        return None, []
    if base.type == "identifier" and text(base) in facts.scan.aliases:
        return facts.scan.aliases[text(base)].path + "[]", indices
    path = value_path(facts.target, base, facts.scan)
    if path is None and base.type == "identifier":
        name = text(base)
        if name in facts.containers or name in facts.scan.local_unknown:
            path = name
    return path, indices


def _mark_sizes_read(facts: Facts) -> None:
    for alias in facts.scan.aliases.values():
        _container(facts, alias.path).size_read = True
    for atom in facts.atoms:
        if atom.kind == "size" and atom.base is not None:
            path = _access_path(facts, atom.base)
            if path is not None and path in facts.containers:
                facts.containers[path].size_read = True
    for node in walk(facts.target.body):
        if node.type == "call_expression":
            function = node.child_by_field_name("function")
            if function is not None and function.type == "field_expression" and text(
                    function.child_by_field_name("field")) in (
                    "size", "length", "empty", "begin", "end", "cbegin", "cend", "back",
                    "rbegin", "rend"):
                path = value_path(facts.target, function.child_by_field_name("argument"),
                                  facts.scan)
                if path is not None:
                    _container(facts, path).size_read = True


def _wrap_checks(facts: Facts, reader: ExpressionReader) -> None:
    """``i < x.size() - 1`` wraps around when x is empty: the loop would run past the end.
    Each such unsigned difference in a loop condition must not go below zero."""
    for node in walk(facts.target.body):
        if node.type != "for_statement":
            continue
        condition = node.child_by_field_name("condition")
        for part in walk(condition) if condition is not None else []:
            if part.type != "binary_expression" or text(part.child(1)) != "-":
                continue
            left = facts.mapping(reader.read(part.child_by_field_name("left")))
            right = facts.mapping(reader.read(part.child_by_field_name("right")))
            if not _unsigned(facts, left):
                continue
            difference = left - right
            if all(_unknown_symbol(facts, s) is None for s in difference.symbols()):
                facts.requirements.append(
                    (difference, f"{normalized(part)} in a loop condition must not wrap around"))


def _unsigned(facts: Facts, poly: Poly) -> bool:
    for symbol in poly.symbols():
        if is_atom(symbol):
            atom = facts.atoms.get(symbol)
            if atom is not None and atom.kind == "size":
                return True
        else:
            param = facts.target.param(symbol)
            if param is not None and param.ctype.is_unsigned:
                return True
    return False


def _work_degree(facts: Facts, models) -> int:
    """How many nested loops run over a dimension (the work grows like size ** degree)."""
    degree = 1
    for model in models:
        loop_vars = {model.header.var, *(h.var for h in model.inner)}
        mapping = SymbolMap(_replacer(facts, ExpressionReader(
            facts.atoms, macros=getattr(facts.target.context.scope.file, "macros", None)),
            loop_vars))
        chains = [(model.header, *a.loops) for a in model.accesses] or [(model.header,)]
        for chain in chains:
            unique = {id(h): h for h in chain}.values()
            degree = max(degree, sum(1 for h in unique
                                     if _varies(facts, mapping(h.upper - h.lower), loop_vars)))
    return min(degree, 4)


def _varies(facts: Facts, span: Poly, loop_vars: set[str]) -> bool:
    """A trip count over a dimension, a size or an outer loop's variable."""
    for symbol in span.symbols():
        atom = facts.atoms.get(symbol) if is_atom(symbol) else None
        if symbol in facts.dims or symbol in loop_vars or (
                atom is not None and atom.kind in ("size", "division")):
            return True
    return False
