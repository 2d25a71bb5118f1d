"""Harnesses synthesized for Fortran procedures, from the front end's typed scope.

The procedure around the selected lines is called with inputs made from its dummy arguments'
declarations, in the protocol of ``tools/harness/ellora_harness.f90``:

- an integer dummy that is the extent of an array dummy (``x(n)``, ``a(n, m)``) is a
  dimension: the case's size (for two dimensions, the nearest square root of it, plus a
  different offset each so a swapped pair of extents shows);
- real arrays (kind 4 or 8, one or two dimensions, explicit or assumed shape) get uniform
  values in [-2, 2); real scalars of intent in, a value of the same stream;
- what the procedure may write (intent out or inout, or no intent) is compared: arrays, and
  scalars of intent out/inout; a function's result is compared too.

Anything else has no domain this can infer (an integer that is not an extent may be an
offset or an index; an integer array may hold indices; logical, character, derived types,
pointers, allocatables, optionals): CannotSynthesize says which argument, and the change
stays unverified with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from ellora.tools.synthesis import CannotSynthesize, SynthesizedHarness

_REAL_KINDS = {4: "real(4)", 8: "real(8)"}


@dataclass
class _Argument:
    name: str
    role: str  # dimension, real_array, real_scalar
    declaration: str = ""
    dims: tuple[str, ...] = ()  # extents, as Fortran expressions over the dimensions
    output: bool = False


def synthesize_fortran_harness(source: str, first_line: int, last_line: int,
                               origin: str) -> SynthesizedHarness:
    """A harness program for the procedure holding ``first_line``..``last_line``."""
    from ellora.tools.loops.fortran import FortranSource
    from ellora.tools.loops.fortran.syntax import PROCEDURES, unit_name, walk

    parsed = FortranSource(source)
    units = [node for node in walk(parsed.tree.root_node) if node.type in PROCEDURES
             and node.start_point[0] + 1 <= first_line and last_line <= node.end_point[0] + 1]
    if not units:
        raise CannotSynthesize("the selection is not inside one subroutine or function")
    unit_node = min(units, key=lambda node: node.end_byte - node.start_byte)
    name = unit_name(unit_node)
    unit = parsed.file_scope.units.get(unit_node.start_byte)
    if name is None or unit is None:
        raise CannotSynthesize("the procedure around the selection has no name")
    host = unit.host
    if host is not None and host.kind != "module":
        raise CannotSynthesize(f"{name} is contained in {host.kind} {host.name}: only module "
                               "procedures and external procedures can be called from a harness")
    dummies = _dummy_names(unit_node)
    arguments = _arguments(name, dummies, unit)
    result = None
    if unit_node.type == "function":
        result = _function_result(name, unit)
    outputs = [a.name for a in arguments if a.output] + (["result"] if result else [])
    if not outputs:
        raise CannotSynthesize(f"{name} writes none of its arguments: nothing to compare")
    text = _render(name, arguments, result, host.name if host is not None else None, origin,
                   unit_node.type)
    notes = [f"{a.name}: extent" for a in arguments if a.role == "dimension"]
    return SynthesizedHarness(text, name, outputs, notes,
                              degree=max([len(a.dims) for a in arguments] + [1]))


def _dummy_names(unit_node) -> list[str]:
    from ellora.tools.loops.fortran.syntax import lower

    header = unit_node.named_children[0] if unit_node.named_children else None
    parameters = header.child_by_field_name("parameters") if header is not None else None
    if parameters is None:
        return []
    return [lower(c) for c in parameters.named_children if c.type == "identifier"]


def _arguments(name: str, dummies: list[str], unit) -> list[_Argument]:
    symbols = {dummy: unit.symbols.get(dummy) for dummy in dummies}
    for dummy, symbol in symbols.items():
        if symbol is None:
            raise CannotSynthesize(f"{name}: argument {dummy} is not declared (implicit "
                                   "typing): its type is unknown")
    extents = {symbol.name: [d.upper for d in symbol.dims]
               for symbol in symbols.values() if symbol.dims}
    used_as_extent = {upper.strip().lower() for uppers in extents.values() for upper in uppers
                      if upper is not None}
    degree = max([len(dims) for dims in extents.values()] + [1])
    dimension_names = [d for d in dummies if d in used_as_extent]
    arguments = []
    for dummy in dummies:
        symbol = symbols[dummy]
        unusable = sorted(symbol.attributes & {"pointer", "allocatable", "optional", "value",
                                               "external"})
        if unusable:
            raise CannotSynthesize(f"{name}: argument {dummy} is {unusable[0]}: not synthesized")
        base, kind = symbol.ftype.base, symbol.ftype.kind
        output = symbol.intent in (None, "out", "inout")
        if base == "integer" and not symbol.dims:
            if dummy not in used_as_extent:
                raise CannotSynthesize(f"{name}: integer argument {dummy} is not an array "
                                       "extent: its domain (an offset, an index, a count?) "
                                       "is unknown")
            if symbol.intent in ("out", "inout"):
                raise CannotSynthesize(f"{name}: the extent {dummy} is written")
            arguments.append(_Argument(dummy, "dimension", f"integer({kind or 4})"))
            continue
        if base != "real" or kind not in _REAL_KINDS:
            what = f"{base} array" if symbol.dims else base
            raise CannotSynthesize(f"{name}: argument {dummy} is {what} "
                                   f"({symbol.ftype.spelling}): no input domain is inferred "
                                   "for it (an integer array may hold indices)")
        if not symbol.dims:
            if symbol.intent in ("out", "inout"):
                arguments.append(_Argument(dummy, "real_scalar", _REAL_KINDS[kind],
                                           output=True))
            else:
                arguments.append(_Argument(dummy, "real_scalar", _REAL_KINDS[kind]))
            continue
        if len(symbol.dims) > 2 or (len(symbol.dims) == 2 and kind != 8):
            raise CannotSynthesize(f"{name}: argument {dummy} has {len(symbol.dims)} "
                                   f"dimensions of kind {kind}: the harness makes real "
                                   "arrays of one dimension, or two of kind 8")
        dims = tuple(_extent(name, dummy, dim, dimension_names, degree, position)
                     for position, dim in enumerate(symbol.dims))
        arguments.append(_Argument(dummy, "real_array", _REAL_KINDS[kind], dims, output))
    return arguments


def _extent(name: str, dummy: str, dim, dimension_names: list[str], degree: int,
            position: int) -> str:
    if dim.lower.strip() != "1":
        raise CannotSynthesize(f"{name}: argument {dummy} has lower bound {dim.lower}: "
                               "only arrays starting at 1 are synthesized")
    if dim.upper is None:  # assumed shape (:) or size (*): the case's extent
        return _dimension_value(position, degree)
    upper = dim.upper.strip().lower()
    if upper in dimension_names:
        return upper
    if upper.isdigit():
        return upper
    raise CannotSynthesize(f"{name}: the extent {dim.upper} of {dummy} is an expression: "
                           "only an argument or a literal is synthesized")


def _dimension_value(position: int, degree: int) -> str:
    if degree == 1:
        return "int(c%size)"
    return f"ellora_root + {position * 3}"


def _function_result(name: str, unit) -> str:
    symbol = unit.symbols.get(name) or next(
        (s for s in unit.symbols.values() if s.where == "result"), None)
    if symbol is None or symbol.dims:
        raise CannotSynthesize(f"{name}: its result is not a declared scalar")
    if symbol.ftype.base == "real" and symbol.ftype.kind in _REAL_KINDS:
        return _REAL_KINDS[symbol.ftype.kind]
    if symbol.ftype.base == "integer":
        return f"integer({symbol.ftype.kind or 4})"
    raise CannotSynthesize(f"{name}: its result is {symbol.ftype.spelling}: not compared")


def _render(name: str, arguments: list[_Argument], result: str | None, module: str | None,
            origin: str, kind: str) -> str:
    degree = max([len(a.dims) for a in arguments] + [1])
    dimensions = [a for a in arguments if a.role == "dimension"]
    lines = [f"! Differential test and timing harness for {name}() in {origin},",
             "! synthesized by Ellora from its declarations (see tools/harness/ellora_harness.f90).",
             "program ellora_synthesized_harness",
             "  use ellora_harness"]
    if module:
        lines.append(f"  use {module}, only: {name}")
    lines += ["  implicit none", "  type(ellora_case) :: c"]
    if module is None:
        lines.append(f"  external :: {name}" if kind == "subroutine" else
                     f"  {result}, external :: {name}")
    if degree > 1:
        lines.append("  integer :: ellora_root")
    for argument in arguments:
        if argument.role == "real_array":
            shape = ", ".join(":" for _ in argument.dims)
            lines.append(f"  {argument.declaration}, allocatable :: {argument.name}({shape})")
        else:
            lines.append(f"  {argument.declaration} :: {argument.name}")
    if result:
        lines.append(f"  {result} :: result")
    lines += ["  real(8) :: ellora_draw(1)", "  call ellora_begin(c)"]
    if degree > 1:
        lines.append("  ellora_root = max(1, nint(sqrt(real(c%size, 8))))")
    for position, argument in enumerate(dimensions):
        lines.append(f"  {argument.name} = {_dimension_value(position, degree)}")
    for argument in arguments:
        if argument.role == "real_array":
            lines.append(f"  allocate({argument.name}({', '.join(argument.dims)}))")
            lines.append(f"  call ellora_reals(c, {argument.name})")
        elif argument.role == "real_scalar":
            lines.append("  call ellora_reals(c, ellora_draw)")
            lines.append(f"  {argument.name} = ellora_draw(1)")
    if result:
        lines.append("  result = 0")
    call = ", ".join(a.name for a in arguments)
    lines.append("  do while (ellora_next(c))")
    lines.append(f"    result = {name}({call})" if result else f"    call {name}({call})")
    lines.append("  end do")
    for argument in arguments:
        if argument.output and argument.role == "real_array":
            lines.append(f"  call ellora_output(c, {argument.name})")
        elif argument.output and argument.role == "real_scalar":
            lines.append(f"  call ellora_output(c, real({argument.name}, 8))")
    if result:
        lines.append("  call ellora_output(c, result)")
    lines += ["  call ellora_end(c)", "end program ellora_synthesized_harness", ""]
    return "\n".join(lines)
