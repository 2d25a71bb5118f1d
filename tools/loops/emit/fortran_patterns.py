"""Fortran forms of the patterns a plain ``!$omp parallel do`` cannot express, on OpenMP
threads (and their pieces, which the MPI lowering reuses):

- argmin/argmax: the extreme key in one reduction, then the first (or, for ``<=``, last)
  index that reaches it in a second, so ties resolve as in the loop; a last match
  (``if (c) k = i``) is a max-index reduction;
- running values (``s = s + x(i); y(i) = s`` and ``y(i) = y(i - 1) + x(i)``, also with
  ``max``/``min``): a two-pass block scan. When the loop stores the running value itself
  and nothing else reads it, each thread scans its block from the identity (writes
  included) and then folds the combined offset of the blocks before it into the block's
  stored values, an element-wise update that vectorizes; otherwise each block is folded
  from the identity and then replayed from its offset (the dependence chain walked twice).

Temporaries live in ``block`` constructs, so the procedure's declarations stay as written.
"""

from __future__ import annotations

from dataclasses import dataclass

from ellora.tools.loops.emit.common import NotEmittable, pad_lines
from ellora.tools.loops.emit.fortran_text import (
    FortranEmission,
    FortranText,
    directive,
    reduction_clauses,
)
from ellora.tools.loops.fortran.syntax import lower, spelled, walk

_IDENTITY = {"+": "0", "*": "1", "max": "-huge({v})", "min": "huge({v})"}


def emit_pattern(text: FortranText, target: str) -> FortranEmission:
    if not text.header.unit_step or text.header.descending:
        raise NotEmittable("an argmin, last match or running value over a strided or "
                           "descending loop is not transformed")
    if text.info.concurrent and len(text.info.controls) > 1:
        raise NotEmittable("a do concurrent over several indices keeps no order to scan or "
                           "locate in")
    if text.verdict.locate is not None:
        return _locate(text, target)
    return _block_scan(text, target)


# ----- argmin / argmax / last match ----------------------------------------------------------
@dataclass
class LocateParts:
    """The pieces of a locate in Fortran text: temporaries, the key, its type, the index."""

    temporaries: str
    key: str
    key_type: str | None
    key_of: str | None  # the variable or array whose type the key has
    start_key: str | None
    index: str
    index_type: str
    best: str | None
    condition: str | None
    operator: str
    strict: bool


def locate_parts(text: FortranText) -> LocateParts:
    verdict, model = text.verdict, text.model
    locate = verdict.locate
    if any(a.writes for a in model.accesses):
        raise NotEmittable("the loop writes arrays besides keeping an argmin/argmax or match")
    guard = locate.statement
    temporaries = text.body_text(skip=(guard,))
    index_type = text.spelling(locate.index)
    if locate.operator == "last_match":
        return LocateParts(temporaries, "", None, None, None, locate.index, index_type, None,
                           text.rewrite(locate.condition), "last_match", True)
    key = text.rewrite(locate.key)
    if locate.best is not None:
        key_of, start_key = locate.best, locate.best
    else:
        key_of = term_symbol(text, locate.key)
        start_key = text.rewrite(locate.key, {text.var: locate.index})
    if key_of is None:
        raise NotEmittable(f"the type of the key {key} is not known")
    return LocateParts(temporaries, key, text.spelling(key_of), key_of, start_key,
                       locate.index, index_type, locate.best, None, locate.operator,
                       locate.strict)


def term_symbol(text: FortranText, node) -> str | None:
    """The variable (or array) whose declared type a key expression has: an element's, a
    variable's, or the argument's of an elemental intrinsic that keeps it (``abs(x(i))``)."""
    from ellora.tools.loops.fortran.syntax import callee_and_arguments, strip

    node = strip(node)
    if node is None:
        return None
    if node.type == "identifier":
        return lower(node) if text.type_of(lower(node)) is not None else None
    name, arguments = callee_and_arguments(node)
    if name is not None:
        symbol = text.type_of(name)
        if symbol is not None and symbol.is_array:
            return name
        if name in ("abs", "sqrt", "exp", "log", "sin", "cos", "max", "min") and arguments:
            return term_symbol(text, arguments[0])
        return None
    if node.type in ("math_expression", "unary_expression"):
        parts = [c for c in node.named_children if c.type != "comment"]
        found = {term_symbol(text, p) for p in parts if p.type != "number_literal"}
        spellings = {text.spelling(f) if f else None for f in found}
        return min(f for f in found if f) if len(spellings) == 1 and None not in \
            spellings else None
    return None


def locate_passes(text: FortranText, parts: LocateParts, head: str, clauses_for) -> str:
    """The two passes (one for a last match) over the loop ``head``; ``clauses_for(op,
    name)`` gives the directive lines around a pass that reduces ``name`` with ``op``."""
    body = (parts.temporaries + "\n") if parts.temporaries.strip() else ""
    if parts.operator == "last_match":
        first, last = clauses_for("max", "ellora_at")
        return (f"{parts.index_type} :: ellora_at\n"
                "ellora_at = -huge(ellora_at)\n"
                f"{first}{head}\n{pad_lines(body + f'if ({parts.condition}) ellora_at = {text.var}')}"
                f"end do\n{last}"
                f"if (ellora_at /= -huge(ellora_at)) {parts.index} = ellora_at")
    minimum = parts.operator == "min"
    moves = ("<" if minimum else ">") + ("" if parts.strict else "=")
    # strict: the first index reaching the extreme; <=/>=: the last one
    at_op, at_init = ("min", "huge(ellora_at)") if parts.strict else \
        ("max", "-huge(ellora_at)")
    first_pass, last_pass = clauses_for(parts.operator, "ellora_key")
    first_index, last_index = clauses_for(at_op, "ellora_at")
    finish = f"{parts.index} = ellora_at"
    if parts.best is not None:
        finish += f"\n{parts.best} = ellora_key"
    return (f"{parts.key_type} :: ellora_key, ellora_start\n{parts.index_type} :: ellora_at\n"
            f"ellora_start = {parts.start_key}\nellora_key = ellora_start\n"
            f"{first_pass}{head}\n"
            f"{pad_lines(body + f'ellora_key = {parts.operator}(ellora_key, {parts.key})')}"
            f"end do\n{last_pass}"
            f"if (ellora_key {moves} ellora_start) then\n"
            + pad_lines(f"ellora_at = {at_init}\n{first_index}{head}\n"
                   + pad_lines(body + f"if ({parts.key} == ellora_key) ellora_at = "
                                 f"{at_op}(ellora_at, {text.var})")
                   + f"end do\n{last_index}"
                   + f"if (ellora_at /= {at_init}) then\n" + pad_lines(finish) + "end if")
            + "end if")


def _locate(text: FortranText, target: str) -> FortranEmission:
    del target
    parts = locate_parts(text)
    privates = text.private_names()

    def clauses(operator: str, name: str) -> tuple[str, str]:
        found = ["schedule(static)", f"reduction({operator}:{name})"]
        if privates:
            found.append(f"private({', '.join(privates)})")
        return directive("parallel do", found) + "\n", "!$omp end parallel do\n"

    code = "block\n" + pad_lines(locate_passes(text, parts, text.head(), clauses)) + "end block"
    what = "last match as a max-index reduction" if parts.operator == "last_match" else (
        f"arg{parts.operator} in two OpenMP reductions (the {parts.operator}imum key, then the "
        f"{'first' if parts.strict else 'last'} index reaching it)")
    return text.emission(code, what + "; " + "; ".join(text.verdict.facts))


# ----- running values ------------------------------------------------------------------------
@dataclass
class ScanParts:
    """A running value: its type, identity, start, the two pass bodies, the combination of
    block values, what is set after the loop, the arrays whose elements it writes."""

    kind: str
    identity: str
    start: str
    first: str
    second: str
    combine: str
    finish: str
    written: list[str]
    fixups: str | None = None  # body folding the offset into the stored values, or None
    start_when: str = ""  # the condition under which ``start`` may be read (else identity)

    def first_value(self) -> str:
        """Statements setting ``ellora_first``: the start, read only when it exists."""
        if not self.start_when:
            return f"ellora_first = {self.start}"
        identity = self.identity.replace("ellora_run", "ellora_first")
        return (f"ellora_first = {identity}\n"
                f"if ({self.start_when}) ellora_first = {self.start}")


def scan_parts(text: FortranText) -> ScanParts:
    verdict = text.verdict
    if verdict.scan is not None:
        return _scalar_scan(text)
    return _recurrence(text)


def _reads(node, name: str) -> bool:
    return any(n.type == "identifier" and lower(n) == name for n in walk(node))


def _scalar_scan(text: FortranText) -> ScanParts:
    scan, model = text.verdict.scan, text.model
    others = [a for a in model.accesses if a.writes and not _reads(a.statement, scan.name)]
    if others:
        raise NotEmittable("the loop writes data besides the running value and its uses")
    reducers = [r.name for r in text.verdict.reducers]
    kind = text.spelling(scan.name)
    renames = {scan.name: "ellora_run"}
    first, second = [], []
    for statement in text.statements():
        if statement == scan.update:
            first.append(text.rewrite(statement, renames))
            second.append(text.rewrite(statement, renames))
        elif _reads(statement, scan.name) or any(_reads(statement, r) for r in reducers):
            # a use of the running value, or a reduction (accumulated once, in the pass
            # that runs the loop's statements; the caller combines it)
            second.append(text.rewrite(statement, renames))
        else:
            first.append(text.rewrite(statement))
            second.append(text.rewrite(statement))
    combine = _combine(scan.operator, "")
    written = sorted({a.base for a in model.accesses if a.writes})
    stored = _stored_running_values(text, scan)
    fixups = None if stored is None else "\n".join(
        _fixup(text.rewrite(target), scan.operator, "") for target in stored)
    return ScanParts(kind, _IDENTITY[scan.operator].format(v="ellora_run"), scan.name,
                     "\n".join(first), "\n".join(second), combine,
                     f"{scan.name} = ellora_run", written, fixups)


def _stored_running_values(text: FortranText, scan) -> list | None:
    """The element targets of ``target = s`` when every use of the running value besides
    its update is such a store; None when any other statement reads it (the replay)."""
    targets = []
    for statement in text.statements():
        if statement == scan.update or not _reads(statement, scan.name):
            continue
        left = statement.child_by_field_name("left") \
            if statement.type == "assignment_statement" else None
        right = statement.child_by_field_name("right") if left is not None else None
        if left is None or right is None or left.type == "identifier" or \
                right.type != "identifier" or lower(right) != scan.name or \
                _reads(left, scan.name):
            return None
        targets.append(left)
    return targets


def _fixup(target: str, operator: str, compare: str) -> str:
    """``target`` (its block's own running value) combined after the offset ``ellora_run``."""
    if operator in ("+", "*"):
        return f"{target} = ellora_run {operator} {target}"
    compare = compare or (">" if operator == "max" else "<")
    return f"{target} = merge({target}, ellora_run, {target} {compare} ellora_run)"


def _recurrence(text: FortranText) -> ScanParts:
    recurrence, model = text.verdict.recurrence, text.model
    base, statement = recurrence.base, recurrence.statement
    spans = dict.fromkeys(recurrence.previous, "ellora_run")
    step = f"ellora_run = {text.rewrite(recurrence.fold.node, replace=spans)}"
    start_text = text.bounds()[0]
    if recurrence.first is not None:  # the first iteration's own value
        step = (f"if ({text.var} == {start_text}) then\n"
                f"  ellora_run = {text.rewrite(recurrence.first.node)}\nelse\n  {step}\nend if")
    kind = text.spelling(base)
    identity = _IDENTITY[recurrence.operator].format(v="ellora_run")
    start = identity.replace("ellora_run", "ellora_first") if recurrence.from_identity else \
        f"{base.replace('.', '%')}(({start_text}) - 1)"
    # the element before the loop is read only when the loop runs (it may not exist else)
    start_when = "" if recurrence.from_identity else f"{text.bounds()[1]} >= {start_text}"
    target = model.spell(base, [text.var])
    combine = _combine(recurrence.operator, recurrence.compare)
    own = f"{step}\n{target} = ellora_run"
    if recurrence.alone:
        return ScanParts(kind, identity, start, step, own, combine, "", [base],
                         _fixup(target, recurrence.operator, recurrence.compare), start_when)
    # later statements read the element: pass 2 replays the whole body
    statements = text.statements()
    index = statements.index(statement)
    second = [text.rewrite(s) for s in statements[:index]] + [own] + \
        [text.rewrite(s) for s in statements[index + 1:]]
    written = sorted({a.base for a in model.accesses if a.writes})
    return ScanParts(kind, identity, start, step, "\n".join(second), combine, "", written,
                     None, start_when)


def _combine(operator: str, compare: str) -> str:
    block = "ellora_blocks(ellora_b)"
    if operator in ("+", "*"):
        return f"ellora_run = ellora_run {operator} {block}"
    compare = compare or (">" if operator == "max" else "<")
    return f"if ({block} {compare} ellora_run) ellora_run = {block}"


def block_bounds(text: FortranText, parts_name: str = "ellora_p",
                 part: str = "ellora_t") -> str:
    """``ellora_begin``/``ellora_end`` of block ``part`` of ``parts_name`` equal blocks."""
    start, end, _ = text.bounds()
    return (f"ellora_lo = {start}\n"
            f"ellora_n = max(0_8, int({end}, 8) - ellora_lo + 1)\n"
            f"ellora_chunk = (ellora_n + {parts_name} - 1) / {parts_name}\n"
            f"ellora_begin = ellora_lo + min(ellora_n, ellora_chunk * {part})\n"
            f"ellora_end = ellora_lo + min(ellora_n, ellora_chunk * ({part} + 1)) - 1")


def combined_offset(parts: ScanParts, last: str = "ellora_t - 1") -> str:
    """``ellora_run`` = the start combined in order with blocks 0 .. ``last`` (by default
    the blocks before this one)."""
    return ("ellora_run = ellora_first\n"
            f"do ellora_b = 0, {last}\n"
            "  if (ellora_b == 0) then\n    ellora_run = ellora_blocks(0)\n  else\n"
            f"    {parts.combine}\n  end if\nend do")


def _block_scan(text: FortranText, target: str) -> FortranEmission:
    del target
    parts = scan_parts(text)
    privates = text.private_names()
    head = text.head(start="ellora_begin", end="ellora_end", step=None)
    declarations = (f"{parts.kind} :: ellora_run\n"
                    "integer(8) :: ellora_lo, ellora_n, ellora_chunk, ellora_begin, ellora_end, "
                    "ellora_b\ninteger :: ellora_p, ellora_t\n"
                    "ellora_p = omp_get_num_threads()\nellora_t = omp_get_thread_num()\n"
                    + block_bounds(text) + "\n")
    start_run = ("if (ellora_t == 0) then\n  ellora_run = ellora_first\nelse\n"
                 f"  ellora_run = {parts.identity}\nend if\n")
    if parts.fixups is not None:  # scan each block with its writes, then fold offsets in
        inner = (declarations + "! pass 1: each block scanned from its own start\n" + start_run
                 + f"{head}\n{pad_lines(parts.second)}end do\n"
                 "ellora_blocks(ellora_t) = ellora_run\n!$omp barrier\n"
                 "if (ellora_t > 0) then  ! pass 2: the offset folded into the block's values\n"
                 + pad_lines(combined_offset(parts) + f"\n{head}\n{pad_lines(parts.fixups)}"
                             "end do") + "end if")
        if parts.finish:
            inner += ("\nif (ellora_t == ellora_p - 1) then\n"
                      + pad_lines(combined_offset(parts, "ellora_t") + "\n" + parts.finish)
                      + "end if")
        how = ("each block scanned from its own start, the block offsets combined in order, "
               "then each offset folded into its block's stored values")
    else:
        inner = (declarations
                 + "if (ellora_p > 1) then  ! pass 1: each block's own running value\n"
                 + pad_lines(start_run + f"{head}\n{pad_lines(parts.first)}end do\n"
                             "ellora_blocks(ellora_t) = ellora_run")
                 + "end if\n!$omp barrier\n" + combined_offset(parts) + "\n"
                 f"{head}  ! pass 2: each block from its offset\n{pad_lines(parts.second)}"
                 "end do")
        if parts.finish:
            inner += f"\nif (ellora_t == ellora_p - 1) {parts.finish}"
        how = ("each block's own running value, the block offsets combined in order, then "
               "each block replayed from its offset")
    if text.verdict.lastprivates:
        raise NotEmittable("a value kept after a running-value loop (lastprivate) is not "
                           "split into blocks")
    region = directive("parallel", reduction_clauses(text.verdict)
                       + ([f"private({', '.join(privates)})"] if privates else []))
    code = ("block\n" + pad_lines(
        f"{parts.kind} :: ellora_first\n{parts.kind}, allocatable :: ellora_blocks(:)\n"
        f"{parts.first_value()}\n"
        "allocate(ellora_blocks(0:omp_get_max_threads() - 1))\n"
        f"{region}\nblock\n{pad_lines(inner)}end block\n!$omp end parallel\n"
        "deallocate(ellora_blocks)") + "end block")
    verdict = text.verdict
    what = verdict.scan.name if verdict.scan is not None else \
        f"{verdict.recurrence.base}({text.var})"
    return text.emission(
        code, f"running value {what} as a two-pass block scan on OpenMP threads: {how}; "
        + "; ".join(verdict.facts), uses=("omp_lib",))


__all__ = [
    "block_bounds",
    "combined_offset",
    "emit_pattern",
    "locate_parts",
    "locate_passes",
    "scan_parts",
    "spelled",
]
