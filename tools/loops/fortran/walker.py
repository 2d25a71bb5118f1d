"""One pass over a Fortran loop body: the accesses, scalar events, calls and exits of the
:class:`~ellora.tools.loops.model.LoopModel`, with the conditions and guards around each.

``a(e) = a(e) + v`` (the same element on both sides) is recorded as an update ``+=`` of
that element, as C's compound assignment is; an array section ``a(lo:hi, j)`` is an access
inside an implied loop over the section; a whole array (``a`` alone, an argument of
``sum``) is an access to every element.
"""

from __future__ import annotations

from dataclasses import replace

from ellora.tools.loops.calls import CallEffect
from ellora.tools.loops.cpp.header import NotCounted
from ellora.tools.loops.expr import ONE, Poly
from ellora.tools.loops.fortran.calls import classify_call
from ellora.tools.loops.fortran.header import do_header, read_control
from ellora.tools.loops.fortran.reader import argument_list, comparison_parts
from ellora.tools.loops.fortran.syntax import (
    callee_and_arguments,
    exit_target,
    if_parts,
    key_of,
    leaving_kind,
    loop_body,
    loop_kind,
    loop_label,
    lower,
    named,
    spelled,
    strip,
    text,
    walk,
)
from ellora.tools.loops.model import (
    Access,
    Base,
    CallSite,
    Comparison,
    Exit,
    LoopHeader,
    ScalarEvent,
)
from ellora.tools.loops.terms import NEGATED, Guard

_UPDATES = {"+": "+=", "-": "-=", "*": "*="}
_SKIPPED = ("comment", "statement_label", "format_statement", "include_statement",
            "variable_declaration", "implicit_statement", "use_statement")
_IO = ("print_statement", "write_statement", "read_statement", "open_statement",
       "close_statement", "inquire_statement", "flush_statement", "rewind_statement",
       "backspace_statement", "endfile_statement", "wait_statement")
_UNREAD = ("where_statement", "forall_statement", "associate_statement",
           "pointer_association_statement", "select_type_statement", "entry_statement")
_RULE = "a dummy argument without pointer or target"


class BodyWalker:
    """Walks one loop body; the model's lists grow as it goes."""

    def __init__(self, model, reader, terms, scope, statements):
        self.model, self.reader, self.terms, self.scope = model, reader, terms, scope
        self.loop = model.node
        self.tops = statements
        self.conditions: list[Comparison] = []
        self.frames: list[tuple[Guard, object]] = []
        self.sections = 0
        self.labels = self._labels_around()

    def _labels_around(self) -> set[str]:
        """Construct names of the analysed loop and the loops around it."""
        found, current = set(), self.loop
        while current is not None:
            if current.type == "do_loop" and loop_label(current):
                found.add(loop_label(current))
            current = current.parent
        return found

    def run(self, extra: list[LoopHeader], header_info) -> None:
        loops = tuple(extra)
        self.model.inner += list(extra)
        conditional = header_info.mask is not None
        if header_info.mask is not None:
            self.visit_expression(header_info.mask, False, loops)
            self.conditions = self._comparisons(header_info.mask, False)
        for statement in self.tops:
            self.visit_statement(statement, conditional, loops)

    # ----- positions --------------------------------------------------------------------
    def top_index(self, node) -> int:
        for index, statement in enumerate(self.tops):
            if node is not None and statement.start_byte <= node.start_byte < statement.end_byte:
                return index
        return -1

    def guard_of(self, statement):
        if not self.frames:
            return None
        guard, single = self.frames[-1]
        return replace(guard, sole=single is not None and statement is not None and
                       single.start_byte == statement.start_byte)

    def _top_level(self, statement, conditional: bool) -> bool:
        return statement is not None and statement.parent == self.loop and not conditional

    # ----- statements -------------------------------------------------------------------
    def visit_statement(self, node, conditional: bool, loops: tuple, open_loops: int = 0):
        kind = node.type
        if kind in _SKIPPED:
            return
        if kind == "assignment_statement":
            self._assignment(node, conditional, loops, open_loops)
        elif kind == "subroutine_call":
            self._subroutine(node, conditional, loops, open_loops)
        elif kind == "if_statement":
            self._if(node, conditional, loops, open_loops)
        elif kind == "do_loop":
            self._inner_loop(node, conditional, loops, open_loops)
        elif kind == "select_case_statement":
            self._select(node, conditional, loops, open_loops)
        elif kind == "block_construct":
            for child in named(node):
                self.visit_statement(child, conditional, loops, open_loops)
        elif leaving_kind(node) is not None:
            self._exit(node, leaving_kind(node), conditional, loops, open_loops)
        elif kind == "keyword_statement":
            return  # continue
        elif kind in _IO:
            self._io(node, conditional, loops, open_loops)
        elif kind in ("allocate_statement", "deallocate_statement", "nullify_statement"):
            self.model.calls.append(CallSite(CallEffect("unknown", kind.split("_")[0]), node,
                                             node.start_point[0] + 1))
        elif kind in _UNREAD:
            self.model.obstacles.append(
                f"the loop body holds a {kind.replace('_statement', '').replace('_', ' ')} "
                f"({spelled(node)[:60]}), which the analysis does not read")
        else:
            for child in named(node):
                self.visit_expression(child, conditional, loops, open_loops)

    def _assignment(self, node, conditional, loops, open_loops) -> None:
        left = strip(node.child_by_field_name("left"))
        right = node.child_by_field_name("right")
        update = self._self_update(left, right)
        if update is not None:
            operator, value, skipped = update
            self._write(left, "update", operator, node, value, conditional, loops, open_loops)
            self.visit_expression(value, conditional, loops, open_loops, skip=skipped)
            return
        self._write(left, "write", "=", node, right, conditional, loops, open_loops)
        self.visit_expression(right, conditional, loops, open_loops)

    def _self_update(self, left, right):
        """(operator, value, the self-read) for ``a(e) = a(e) op v``, else None."""
        if left is None or left.type != "call_expression":
            return None
        name, _ = callee_and_arguments(left)
        if name is None or not self.reader.is_array(name):
            return None
        right = strip(right)
        if right is None or right.type != "math_expression":
            return None
        operator = text(right.child_by_field_name("operator"))
        if operator not in _UPDATES:
            return None
        first, second = right.child_by_field_name("left"), right.child_by_field_name("right")
        target = key_of(left)
        for mine, other in ((first, second), (second, first)):
            if strip(mine) is not None and key_of(strip(mine)) == target and \
                    (mine == first or operator != "-") and \
                    not any(key_of(n) == target for n in walk(other) if n.type ==
                            "call_expression"):
                return _UPDATES[operator], other, strip(mine)
        return None

    def _write(self, target, mode, operator, statement, value, conditional, loops, open_loops):
        if target is None:
            return
        if target.type == "identifier":
            name = lower(target)
            symbol = self.scope.lookup(name, target.start_byte)
            if name in self.model.locals or name == self.model.header.var:
                return
            if symbol is not None and symbol.is_array:
                self._access(name, (None,), ("*",), mode, target, statement, conditional,
                             loops, open_loops, operator, value, whole=True)
                return
            self._scalar(name, mode, operator, target, statement, value, conditional, loops,
                         open_loops)
            return
        if target.type == "call_expression" and (callee_and_arguments(target)[0] is not None
                                                 or self._component(target) is not None):
            self._element(target, mode, operator, statement, value, conditional, loops,
                          open_loops)
            return
        if target.type == "derived_type_member_expression":
            self._member(target, "update", operator, statement, value, conditional, loops,
                         open_loops)
            return
        self.model.obstacles.append(f"the loop writes {spelled(target)}, which the analysis "
                                    "cannot trace to a variable or an element")

    def _subroutine(self, node, conditional, loops, open_loops) -> None:
        callee = node.child_by_field_name("subroutine")
        name = lower(callee) if callee is not None else "?"
        arguments = [a.child_by_field_name("value") if a.type == "keyword_argument" else a
                     for a in argument_list(node)]
        effect = classify_call(self.scope, name, subroutine=True)
        self._arguments(node, effect, arguments, conditional, loops, open_loops)

    def _arguments(self, node, effect: CallEffect, arguments, conditional, loops,
                   open_loops) -> None:
        line = node.start_point[0] + 1
        if effect.kind == "inquiry":
            self.model.calls.append(CallSite(CallEffect("pure", effect.name), node, line))
            for argument in arguments[1:]:
                self.visit_expression(argument, conditional, loops, open_loops)
            return
        for position, argument in enumerate(arguments):
            if argument is None:
                continue
            if effect.kind == "writes_arguments" and position in effect.written:
                self._write(strip(argument), "update", "call", node, None, conditional,
                            loops, open_loops)
                self._subscript_reads(strip(argument), conditional, loops, open_loops)
            else:
                self.visit_expression(argument, conditional, loops, open_loops)
        self.model.calls.append(CallSite(effect, node, line))

    def _subscript_reads(self, target, conditional, loops, open_loops) -> None:
        if target is not None and target.type == "call_expression":
            for argument in argument_list(target):
                self.visit_expression(argument, conditional, loops, open_loops)

    def _io(self, node, conditional, loops, open_loops) -> None:
        word = node.type.replace("_statement", "")
        self.model.calls.append(CallSite(CallEffect("unknown", f"{word} (input/output)"), node,
                                         node.start_point[0] + 1))
        for child in named(node):
            self.visit_expression(child, conditional, loops, open_loops)

    def _if(self, node, conditional, loops, open_loops) -> None:
        condition, branches, logical = if_parts(node)
        saved = list(self.conditions)
        negated: list[Comparison] = []
        top = node.parent == self.loop
        for index, (branch_condition, statements) in enumerate(branches):
            if branch_condition is not None:
                self.visit_expression(branch_condition, conditional or index > 0, loops,
                                      open_loops)
            later = index + 1 < len(branches)
            holding = self._comparisons(branch_condition, False) \
                if branch_condition is not None else []
            self.conditions = saved + negated + holding
            if branch_condition is not None:
                guard = Guard(self.terms.term(branch_condition), later, False, False,
                              top and index == 0, (node.start_byte, node.end_byte), node)
            else:
                previous = branches[index - 1][0]
                guard = Guard(self.terms.term(previous), True, False, True,
                              top and index == 1, (node.start_byte, node.end_byte), node)
            single = statements[0] if len(statements) == 1 else None
            self.frames.append((guard, single))
            for statement in statements:
                self.visit_statement(statement, True, loops, open_loops)
            self.frames.pop()
            if branch_condition is not None:
                negated += self._comparisons(branch_condition, True)
        self.conditions = saved
        del condition, logical

    def _select(self, node, conditional, loops, open_loops) -> None:
        selector = next((c for c in node.named_children if c.type == "selector"), None)
        if selector is not None:
            self.visit_expression(selector, conditional, loops, open_loops)
        for case in node.named_children:
            if case.type != "case_statement":
                continue
            for statement in named(case):
                if statement.type in ("case_value_range_list", "default"):
                    continue
                self.visit_statement(statement, True, loops, open_loops)

    def _inner_loop(self, node, conditional, loops, open_loops) -> None:
        kind = loop_kind(node)
        header = None
        if kind in ("do", "do concurrent"):
            try:
                info = do_header(node)
                headers = [read_control(c, self.reader,
                                        lambda name: self.scope.lookup(name, node.start_byte),
                                        node.start_point[0] + 1, node) for c in info.controls]
                header = headers
            except NotCounted as why:
                self.model.unreadable_inner.append(f"line {node.start_point[0] + 1}: {why}")
        if header is None:
            if kind not in ("do", "do concurrent"):
                self.model.unreadable_inner.append(
                    f"line {node.start_point[0] + 1}: a {kind} loop is not counted")
            statement = node.named_children[0]
            for child in named(statement):
                self.visit_expression(child, True, loops, open_loops + 1)
            for child in loop_body(node):
                self.visit_statement(child, True, loops, open_loops + 1)
            return
        if not loops and open_loops == 0:
            self.model.direct_inner_loops.append(node)
        self.model.inner += header
        for control in info.controls:
            for part in (control.start, control.end, control.step):
                if part is not None:
                    self.visit_expression(part, conditional, loops, open_loops)
        inside = (*loops, *header)
        saved = list(self.conditions)
        if info.mask is not None:
            self.visit_expression(info.mask, True, inside, open_loops)
            self.conditions = saved + self._comparisons(info.mask, False)
        for child in loop_body(node):
            self.visit_statement(child, conditional or info.mask is not None, inside,
                                 open_loops)
        self.conditions = saved

    def _exit(self, node, kind, conditional, loops, open_loops) -> None:
        target = exit_target(node) if kind in ("exit", "cycle") else None
        leaves = kind in ("return", "goto", "stop")
        if kind in ("exit", "cycle"):
            named_target = target is not None and target in self.labels
            own = target is None and not loops and open_loops == 0
            if target is not None and target == loop_label(self.loop):
                leaves = kind == "exit"
            elif named_target:
                leaves = True  # leaves a loop around the analysed one
            else:
                leaves = own and kind == "exit"
        self.model.exits.append(Exit(kind, node, leaves, None, self.guard_of(node),
                                     self.top_index(node)))
        for child in named(node):
            if child.type not in ("identifier", "statement_label_reference"):
                self.visit_expression(child, conditional, loops, open_loops)

    # ----- expressions ------------------------------------------------------------------
    def visit_expression(self, node, conditional, loops, open_loops=0, skip=None) -> None:
        if node is None or node == skip:
            return
        kind = node.type
        if kind == "identifier":
            self._name_read(node, conditional, loops, open_loops)
        elif kind == "call_expression":
            name, arguments = callee_and_arguments(node)
            if name is not None and self.reader.is_array(name):
                self._element(node, "read", "", None, None, conditional, loops, open_loops)
            elif name is not None:
                effect = classify_call(self.scope, name, subroutine=False)
                self._arguments(node, effect, arguments, conditional, loops, open_loops)
            elif self._component(node) is not None:
                self._element(node, "read", "", None, None, conditional, loops, open_loops)
            else:
                for child in named(node):
                    self.visit_expression(child, conditional, loops, open_loops, skip)
        elif kind == "derived_type_member_expression":
            self._member(node, "read", "", None, None, conditional, loops, open_loops)
        elif kind == "keyword_argument":
            self.visit_expression(node.child_by_field_name("value"), conditional, loops,
                                  open_loops, skip)
        elif kind in ("number_literal", "string_literal", "boolean_literal", "comment",
                      "complex_literal", "format_identifier", "unit_identifier"):
            return
        else:
            for child in named(node):
                self.visit_expression(child, conditional, loops, open_loops, skip)

    def _name_read(self, node, conditional, loops, open_loops) -> None:
        name = lower(node)
        parent = node.parent
        if parent is not None and parent.type == "keyword_argument" and \
                parent.child_by_field_name("name") == node:
            return
        if name == self.model.header.var or name in self.model.locals or \
                any(h.var == name for h in loops):
            return
        symbol = self.scope.lookup(name, node.start_byte)
        if symbol is None or symbol.constant:
            return
        if symbol.is_array:
            self._access(name, (None,), ("*",), "read", node, node, conditional, loops,
                         open_loops, whole=True)
            return
        self._scalar(name, "read", "", node, None, None, conditional, loops, open_loops)

    def _scalar(self, name, mode, operator, node, statement, value, conditional, loops,
                open_loops) -> None:
        statement = statement if statement is not None else _statement_of(node)
        self.model.scalars.setdefault(name, []).append(ScalarEvent(
            name=name, mode=mode, operator=operator, node=node, statement=statement,
            value=value, conditional=conditional or bool(loops) or open_loops > 0,
            top_level=self._top_level(statement, conditional) and not loops,
            in_inner_loop=bool(loops) or open_loops > 0, position=node.start_byte,
            term=self.terms.term(value) if value is not None else None,
            guard=self.guard_of(statement), top_index=self.top_index(node)))

    def _component(self, node):
        """(path ``obj.comp``, the component's declaration) of ``obj%comp(...)`` when
        ``obj`` is a variable of a derived type of this file, else None."""
        head = node.named_children[0] if node.named_children else None
        if head is None or head.type != "derived_type_member_expression":
            return None
        parts = named(head)
        member = next((c for c in parts if c.type == "type_member"), None)
        if not parts or parts[0].type != "identifier" or member is None:
            return None
        root = self.scope.lookup(lower(parts[0]), node.start_byte)
        components = self.scope.file.types.get(root.ftype.base) if root is not None else None
        declared = components.get(lower(member)) if components else None
        if declared is None or not declared.is_array:
            return None
        return f"{lower(parts[0])}.{lower(member)}", declared

    def _element(self, node, mode, operator, statement, value, conditional, loops,
                 open_loops, member=None) -> None:
        name, arguments = callee_and_arguments(node)
        indices, texts, inside = [], [], tuple(loops)
        if name is None:
            name, symbol = self._component(node)
            arguments = argument_list(node)
        else:
            symbol = self.scope.lookup(name, node.start_byte)
        for dimension, argument in enumerate(arguments):
            if argument.type == "extent_specifier":
                section = self._section(name, symbol, dimension, argument, node)
                inside = (*inside, section)
                indices.append(Poly.symbol(section.var))
                texts.append(spelled(argument))
                for part in named(argument):
                    self.visit_expression(part, conditional, loops, open_loops)
                continue
            self.visit_expression(argument, conditional, loops, open_loops)
            whole_array = argument.type == "identifier" and self.reader.is_array(lower(argument))
            indices.append(None if whole_array else self.reader.read(argument))
            texts.append(spelled(argument))
        self._access(name, tuple(indices), tuple(texts), mode, node, statement, conditional,
                     inside, open_loops, operator, value, member=member)

    def _section(self, name, symbol, dimension, node, at) -> LoopHeader:
        """The implied loop of ``lo:hi[:step]`` in one dimension of ``name``."""
        self.sections += 1
        var = f"ellora_section{self.sections}"
        pieces = text(node).split(":")
        parts = named(node)
        lower_node = parts[0] if pieces[0].strip() and parts else None
        upper_node = None
        if len(pieces) > 1 and pieces[1].strip():
            upper_node = parts[1] if lower_node is not None and len(parts) > 1 else \
                parts[0] if lower_node is None and parts else None
        step = ONE
        if len(pieces) > 2 and pieces[2].strip() and parts:
            step_value = self.reader.read(parts[-1]).const_value()
            step = Poly.const(abs(step_value)) if step_value else ONE
        dims = symbol.dims if symbol is not None else ()
        low = self.reader.read(lower_node) if lower_node is not None else \
            self._bound(name, dimension, dims, "lbound")
        high = self.reader.read(upper_node) if upper_node is not None else \
            self._bound(name, dimension, dims, "ubound")
        return LoopHeader(var, None, True, low, high + ONE, step, "", "", line=0, node=at)

    def _bound(self, name, dimension, dims, which) -> Poly:
        if dimension < len(dims):
            spelled_bound = dims[dimension].lower if which == "lbound" else \
                dims[dimension].upper
            known = _simple_bound(spelled_bound) if spelled_bound is not None else None
            if known is not None:
                return known
        spelling = f"{which}({name},{dimension + 1})"
        return self.reader.atoms.add(spelling, f"{which}({name}, {dimension + 1})", "call",
                                     names=frozenset([name]))

    def _member(self, node, mode, operator, statement, value, conditional, loops,
                open_loops) -> None:
        """``p(i)%x``: an access of ``p`` (its member ``x``); ``obj%a(i)``: of ``obj.a``."""
        parts = named(node)
        inner = strip(parts[0]) if parts else None
        member = next((lower(c) for c in parts if c.type == "type_member"), None)
        if inner is not None and inner.type == "call_expression":
            self._element(inner, mode, operator, statement, value, conditional, loops,
                          open_loops, member=member)
            return
        if inner is not None and inner.type == "identifier":
            root = lower(inner)
            if root in self.model.locals:
                return
            self._scalar(root, "update" if mode != "read" else "read", operator or "member",
                         node, statement, value, conditional, loops, open_loops)
            return
        self.model.obstacles.append(f"the loop uses {spelled(node)}, a component path the "
                                    "analysis does not follow")

    def _access(self, base, indices, texts, mode, node, statement, conditional, loops,
                open_loops=0, operator="", value=None, member=None, whole=False) -> None:
        if base in self.model.locals:
            return
        self._note_base(base, node)
        statement = statement if statement is not None else _statement_of(node)
        self.model.accesses.append(Access(
            base=base, indices=tuple(indices), texts=tuple(texts), mode=mode,
            operator=operator, node=node, statement=statement, value=value,
            conditions=tuple(self.conditions), conditional=conditional, loops=tuple(loops),
            open_loops=open_loops, member=member, whole=whole,
            term=self.terms.term(value) if value is not None else None,
            guard=self.guard_of(statement), top_index=self.top_index(node),
            standalone=statement is not None and statement.type == "assignment_statement"
            and strip(statement.child_by_field_name("left")) == node))

    def _note_base(self, name: str, node) -> None:
        if name in self.model.bases:
            return
        if "." in name:
            self.model.bases[name] = self._component_base(name, node)
            return
        symbol = self.scope.lookup(name, node.start_byte if node is not None else 0)
        if symbol is None:
            from ellora.tools.loops.cxx_types import CType

            self.model.bases[name] = Base(name, CType("unknown", "?"), "unknown")
            return
        where = {"parameter": "parameter", "global": "global", "host": "global"}.get(
            symbol.where, "local")
        shared = symbol.pointer or symbol.target
        base = Base(name, symbol.ctype, where, distinct=not shared, checkable=not shared)
        if symbol.where == "parameter" and not shared:
            base.rule = _RULE
        elif shared:
            base.rule = "a pointer" if symbol.pointer else "declared target"
        self.model.bases[name] = base

    def _component_base(self, name: str, node) -> Base:
        """A component array ``obj%comp``: distinct when neither the object nor the
        component may be shared (no pointer or target)."""
        root_name, component = name.split(".", 1)
        root = self.scope.lookup(root_name, node.start_byte)
        declared = self.scope.file.types[root.ftype.base][component]
        shared = root.pointer or root.target or declared.pointer
        base = Base(name, declared.ctype, "member", distinct=not shared, checkable=not shared)
        base.rule = f"a component of {root_name}" if not shared else \
            f"a {'pointer ' if declared.pointer else ''}component of {root_name}"
        return base

    def _comparisons(self, node, negate: bool) -> list[Comparison]:
        node = strip(node)
        if node is None:
            return []
        if node.type == "logical_expression":
            operator = node.child_by_field_name("operator")
            left = node.child_by_field_name("left")
            if left is None:
                return self._comparisons(node.child_by_field_name("argument"), not negate)
            spelled_op = text(operator).lower() if operator is not None else ""
            right = node.child_by_field_name("right")
            if (spelled_op == ".and." and not negate) or (spelled_op == ".or." and negate):
                return self._comparisons(left, negate) + self._comparisons(right, negate)
            return []
        parts = comparison_parts(node)
        if parts is None:
            return []
        left, operator, right = parts
        return [Comparison(self.reader.read(left), NEGATED[operator] if negate else operator,
                           self.reader.read(right))]


def _simple_bound(text: str) -> Poly | None:
    """A declared bound that is an integer, a name, or a name plus or minus an integer."""
    import re

    match = re.fullmatch(r"\s*(-?\d+)\s*|\s*([a-z_]\w*)\s*(?:([+-])\s*(\d+))?\s*", text)
    if match is None:
        return None
    if match.group(1) is not None:
        return Poly.const(int(match.group(1)))
    poly = Poly.symbol(match.group(2))
    if match.group(3):
        poly = poly + int(match.group(4)) * (1 if match.group(3) == "+" else -1)
    return poly


def _statement_of(node):
    current = node
    while current is not None and not (current.type.endswith("_statement") or
                                       current.type in ("subroutine_call", "do_loop")):
        current = current.parent
    return current
