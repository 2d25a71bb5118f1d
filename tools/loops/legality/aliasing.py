"""Which bases may share storage, by the language's rules, and what settles it at run time.

- Storage the function owns (a local array or container) and ``__restrict__`` pointers
  and references (GCC's restricted references) share with nothing a caller passed; elements of different non-character types never
  alias (C/C++ strict aliasing); ``std::vector<bool>`` has no addressable elements.
- Two references to containers (``std::vector``, ``std::array``, ``std::string``) are either
  the same object or share nothing, never an offset: when the loop is safe even if they
  are one object, nothing is checked; otherwise the port runs in parallel only when the
  objects differ (``&a != &b``), the original loop otherwise.
- Pointers (and a pointer against a container's storage) may overlap at any offset: the
  port runs in parallel only when the ranges the loop touches are apart.
"""

from __future__ import annotations

from dataclasses import replace

from ellora.tools.loops.cxx_types import CType
from ellora.tools.loops.legality.arrays import (
    access_env,
    flat_index,
    invariant,
    owned_write,
    variant_names,
)
from ellora.tools.loops.legality.verdict import ObjectCheck, RangeCheck, Verdict
from ellora.tools.loops.model import Base, LoopModel

_CHARACTER = {"char", "unsigned char", "signed char", "std::byte", "void", "uint8_t",
              "int8_t", "std::uint8_t"}
_OBJECTS = ("vector", "std_array", "string", "bool_vector", "container")


def sharing(first: Base, second: Base) -> str | None:
    """How two bases may share storage: ``object`` (the same container or none of it),
    ``range`` (overlap at an offset), or None (never). Rows reached through pointers may
    lie anywhere, inside storage the function owns too."""
    from ellora.tools.loops.legality.pointer_rows import leaf, pointer_rows

    if pointer_rows(first) or pointer_rows(second):
        return "range" if _types_may_alias(leaf(first), leaf(second)) else None
    if first.name.split(".")[0] == second.name.split(".")[0] and first.name != second.name \
            and "." in first.name and "." in second.name:
        return None  # two members of one object
    local_pointer = any(b.where == "local" and b.ctype.kind == "pointer"
                        and not b.ctype.restrict for b in (first, second))
    if not local_pointer and (first.distinct or second.distinct):
        return None
    if "bool_vector" in (first.ctype.kind, second.ctype.kind) and \
            first.ctype.kind != second.ctype.kind:
        return None
    if not _types_may_alias(first.element, second.element):
        return None
    if first.ctype.kind in _OBJECTS and second.ctype.kind in _OBJECTS:
        return "object" if first.ctype.name.replace("const ", "") == \
            second.ctype.name.replace("const ", "") else None
    return "range"


def _types_may_alias(first: CType | None, second: CType | None) -> bool:
    if first is None or second is None:
        return True
    a, b = first.name.replace("const ", ""), second.name.replace("const ", "")
    if a == b or a in _CHARACTER or b in _CHARACTER:
        return True
    if first.kind in ("unknown", "auto") or second.kind in ("unknown", "auto"):
        return True
    if first.is_arithmetic and second.is_arithmetic:
        return False
    if first.kind == "struct" and second.kind == "struct":
        return False
    return first.kind == "struct" or second.kind == "struct"


def check_aliasing(model: LoopModel, verdict: Verdict) -> None:
    variant = variant_names(model)
    written = set(model.written_bases())
    names = sorted(model.bases)
    relied: set[str] = set()
    tested = {name for check in verdict.row_checks for name in check.bases}
    for base in sorted(written):
        for other in names:
            if other == base or (other in written and other < base):
                continue
            if base in tested and other in tested:
                continue  # their touched spans are tested apart before the loop
            relation = sharing(model.bases[base], model.bases[other])
            if relation is None:
                relied |= _rule_relied_on(model.bases[base], model.bases[other])
                continue
            first, second = model.bases[base], model.bases[other]
            if relation == "range" and not (first.checkable and second.checkable):
                verdict.refuse("alias", f"{base}/{other}", (
                    f"{base} ({first.rule or first.where}) and {other} "
                    f"({second.rule or second.where}) may share storage, so iterations may "
                    "write and read the same elements through both (an aliasing dependence); "
                    "pass arrays "
                    "without the pointer or target attribute if they never overlap"))
                return
            merged = [replace(a, base=base) for a in model.accesses if a.base in (base, other)]
            if relation == "object":
                if owned_write(model, base, merged, variant, written) is None:
                    verdict.object_checks.append(ObjectCheck(base, other))
                    verdict.facts.append(
                        f"{base} and {other} may be the same object: parallel only when "
                        "they are not (checked before the loop)")
                continue
            same = all(a.indices == merged[0].indices for a in merged)
            reason = _range_obstacle(model, base, other, variant, written)
            if reason:
                verdict.refuse("alias", f"{base}/{other}", (
                    f"{base} and {other} may point to overlapping memory, and the ranges "
                    f"the loop touches cannot be checked at run time ({reason}): mark the "
                    "pointers __restrict__ if they never overlap"))
                return
            verdict.range_checks.append(RangeCheck(base, other, same))
            verdict.facts.append(
                f"{base} and {other} may point to overlapping memory: parallel only when the "
                "ranges the loop touches are apart (checked before the loop)")
    _say_rule(model, verdict, relied)


def _rule_relied_on(first: Base, second: Base) -> set[str]:
    """The pair when only a language rule keeps two bases of one element type apart
    (Fortran dummy arguments without pointer or target never overlap when one is written)."""
    if not (first.rule and first.rule == second.rule and first.distinct and second.distinct):
        return set()
    if not _types_may_alias(first.element, second.element):
        return set()
    return {first.name, second.name}


def _say_rule(model: LoopModel, verdict: Verdict, names: set[str]) -> None:
    if not names:
        return
    rule = model.bases[min(names)].rule
    verdict.facts.append(f"{', '.join(sorted(names))}: each is {rule}, and the language lets "
                         "no two of them share storage when one is written (rule relied on)")


def _range_obstacle(model: LoopModel, first: str, second: str, variant, written) -> str:
    """Why the touched ranges of the pair cannot be computed before the loop, or ""."""
    for access in model.accesses:
        if access.base not in (first, second):
            continue
        index = flat_index(model, access)
        if index is None:
            return (f"{model.spell(access.base, access.texts)} is not one readable offset "
                    "into one run of storage")
        if access.open_loops:
            return f"{model.spell(access.base, access.texts)} sits in a loop without a counted " \
                "range"
        loops = {model.header.var, *(h.var for h in access.loops)}
        if not invariant(index, model, loops, variant, written):
            return f"[{access.texts[0]}] uses a value that changes inside the loop"
        env = access_env(model, access)
        if env.extremes(index, True) is not None and env.extremes(index, False) is not None:
            continue
        reason = replay_obstacle(model, access, written)
        if reason:
            return reason
    return ""


def replay_obstacle(model: LoopModel, access, written: set[str]) -> str:
    """Why the range of ``access``'s subscript cannot be found by replaying the loop
    headers before the loop (evaluating the loads it reads), or ""."""
    atoms = model.function.atoms
    index = flat_index(model, access)
    polys = [index, model.header.lower, model.header.upper]
    for header in access.loops:
        polys += [header.lower, header.upper]
    for poly in polys:
        for symbol in poly.symbols():
            atom = atoms.get(symbol)
            if atom is None:
                continue
            if atom.kind not in ("load", "size", "division", "modulo"):
                return f"[{access.texts[0]}] is computed from {atom.text}"
            if atom.kind == "load":
                if atom.base is None or atom.base in written:
                    return f"{atom.text} is read from memory the loop may change"
                if atom.index is None or any(
                        atoms.get(s) is not None and atoms.get(s).kind == "load"
                        for s in atom.index.symbols()):
                    return f"{atom.text} has nested loads"
                if access.conditional and poly is index:
                    return "a subscript loads its index under a condition"
    if not model.header.unit_step:
        return f"[{access.texts[0]}] is read from memory in a strided loop"
    return ""
