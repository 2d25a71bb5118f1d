"""Build the :class:`LoopModel` of a C/C++ loop: one walk over its body records every
access, scalar event, call and exit, with the conditions and loops around each."""

from __future__ import annotations

from ellora.tools.loops.calls import CallEffect
from ellora.tools.loops.cpp.calls_walk import CallsMixin
from ellora.tools.loops.cpp.facts import (
    _assigned_names,
    _body_statements,
    _confined,
    _declared_name,
    _definition,
    _enclosing_facts,
    _member_type,
    _nonnegative_names,
    _single,
    _statement_kind,
    _statement_of,
    _type_of,
    _used_outside,
)
from ellora.tools.loops.cpp.header import NotCounted, element_range_header, read_header
from ellora.tools.loops.cpp.reader import ExpressionReader, comparison_parts, normalized, strip
from ellora.tools.loops.cpp.references import ReferencesMixin
from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.cpp.terms import term_of
from ellora.tools.loops.cxx_types import CType, element_type
from ellora.tools.loops.expr import Poly
from ellora.tools.loops.model import (
    Access,
    Base,
    CallSite,
    Comparison,
    Exit,
    FunctionContext,
    LoopHeader,
    LoopModel,
    ScalarEvent,
    parse_error,
)
from ellora.tools.loops.terms import Guard

_LOOPS = ("for_statement", "for_range_loop", "while_statement", "do_statement")
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_VALUE_KINDS = ("scalar", "bool", "complex", "struct", "pointer", "auto", "unknown")

def build_model(loop, context: FunctionContext) -> LoopModel:
    """The model of a ``for`` loop (NotCounted when its header is not a counted loop)."""
    scope = context.scope
    written = _assigned_names(loop)
    walker: _BodyWalker | None = None

    def substitute(name: str, node) -> Poly | None:
        if walker is not None and name in walker.aliases:
            return walker.element_value(name)
        return _definition(name, node, loop, scope, reader, written)

    reader = ExpressionReader(context.atoms, substitute=substitute,
                              macros=getattr(scope.file, "macros", None))
    header = read_header(loop, reader, lambda name, node: _type_of(scope, name, node))
    model = LoopModel(header=header, function=context, node=loop,
                      body=loop.child_by_field_name("body"))
    model.locals = {s.name for s in scope.declared_in(loop.start_byte, loop.end_byte)}
    model.locals.discard(header.var)
    model.nonnegative = _nonnegative_names(scope, loop)
    model.outer_facts = _enclosing_facts(loop, reader, scope, model.nonnegative)
    model.statements = _body_statements(model.body)  # a braceless body is one statement
    model.top_statements = [_statement_kind(c) for c in model.statements]
    walker = _BodyWalker(model, reader, scope)
    if header.range_of is not None:
        walker.start_range(header)
    walker.visit_statement(model.body, conditional=False, loops=())
    model.used_outside = _used_outside(loop, context.definition, set(model.scalars))
    syntax = parse_error(loop, "C/C++")
    if syntax:  # named before anything read from the recovered tree
        model.obstacles.insert(0, syntax)
    model.confined = _confined(loop, context.definition, scope, model.bases)
    if header.var in model.scalars:
        model.obstacles.append(f"the loop body modifies the loop variable {header.var}")
        del model.scalars[header.var]
    return model


class _BodyWalker(CallsMixin, ReferencesMixin):
    """One pass over the loop body; the model's lists grow as it goes."""

    def __init__(self, model: LoopModel, reader: ExpressionReader, scope):
        self.model, self.reader, self.scope = model, reader, scope
        self.loop = model.node
        self.conditions: list[Comparison] = []
        self.aliases: dict[str, tuple[str, tuple[Poly | None, ...], tuple[str, ...]]] = {}
        self.private_objects: set[str] = set()
        self.value_copies: set[str] = set()  # by-value range elements: writes stay private
        self.iterators: dict[str, tuple] = {}  # it -> the element *it names (base, indices, texts)
        self.pointers: dict[str, tuple[str, Poly]] = {}  # p -> (array, offset): p[k] is a[o + k]
        self.untraced: dict[str, str] = {}  # references/pointers to storage the model cannot name
        self.indirect: dict[str, str] = {}  # auto locals made from outside storage (iterators?)
        self.reached: dict[str, tuple[str, ...]] = {}  # untraced/indirect -> outside roots
        self.partial_aliases: set[str] = set()  # structured bindings: a write changes a part
        self.frames: list[tuple[Guard, object]] = []  # ifs around: (guard, branch statement)
        self.tops = model.statements

    def is_top(self, node) -> bool:
        """``node`` is one of the loop body's own statements."""
        return node is not None and any(node.start_byte == t.start_byte and
                                        node.end_byte == t.end_byte for t in self.tops)

    def guard_of(self, statement):
        """The innermost if around ``statement`` (its branch's only statement or not)."""
        if not self.frames:
            return None
        guard, single = self.frames[-1]
        from dataclasses import replace

        return replace(guard, sole=single is not None and statement is not None and
                       single.start_byte == statement.start_byte)

    def top_index(self, node) -> int:
        for index, statement in enumerate(self.tops):
            if node is not None and statement.start_byte <= node.start_byte < statement.end_byte:
                return index
        return -1

    def element_value(self, name: str) -> Poly:
        """The value of an element alias inside an index: a load of that element."""
        base, indices, texts = self.aliases[name]
        spelled = base + "".join(f"[{t}]" for t in texts)
        return self.reader.atoms.add(spelled.replace(" ", ""), spelled, "load", base=base,
                                     index=indices[0] if len(indices) == 1 else None,
                                     names=frozenset([base, *self.reader.atoms.plain_names(
                                         indices[0] if indices[0] is not None else Poly())]))

    def _pointee(self, name: str):
        """(base, indices, texts) of the element ``*name`` is, for an iterator of a loop or
        a pointer into an array; else None."""
        if name in self.iterators:
            return self.iterators[name]
        if name in self.pointers:
            base, offset = self.pointers[name]
            return base, (offset,), (self.model.render(offset),)
        return None

    def _pointed(self, pointer: str, indices: tuple, texts: tuple):
        """``p[k]...`` as the element of the array ``p`` points into: ``a[o + k]...``."""
        array, start = self.pointers[pointer]
        first = start + indices[0] if indices[0] is not None else None
        return (array, (first, *indices[1:]),
                (self.model.render(first) if first is not None else "?", *texts[1:]))

    # ----- statements -------------------------------------------------------------------
    def start_range(self, header: LoopHeader) -> None:
        self._range_element(header, self.loop, False, ())

    def _range_element(self, header: LoopHeader, node, conditional, loops, open_loops=0,
                       within=None):
        """The element of a range-based loop: a reference aliases the container's element;
        a copy is read once per iteration and is then the iteration's own variable (its
        reads still stand for the element, which the loop cannot change through it).
        ``within``: (base, indices, texts) of the element of a nested container the loop
        ranges over (``m[i]``), whose elements are then ``m[i][k]``."""
        base, outer, spelled = within or (header.range_of, (), ())
        index = (*outer, Poly.symbol(header.var))
        texts = (*spelled, header.var)
        if header.iterator is not None:  # *it and it->m name the element
            self.iterators[header.iterator] = (base, index, texts)
            return
        for name in header.bindings or (header.element,):  # a binding names a part of it
            self.aliases[name] = (base, index, texts)
            if header.bindings:
                self.partial_aliases.add(name)
            if not header.element_reference:
                self.value_copies.add(name)
        if not header.element_reference:
            self._access(base, index, texts, "read", node, node, conditional, loops,
                         open_loops)

    def _element_range(self, node, loops):
        """(header, (base, indices, texts)) of a range-based loop over one element of a
        nested container (``for (auto& x : m[i])``, ``for (auto& x : row)`` where ``row``
        refers to ``m[i]``); None when the range is not such an element."""
        right = strip(node.child_by_field_name("right"))
        if right is None or not (right.type == "subscript_expression" or (
                right.type == "identifier" and text(right) in self.aliases)):
            return None
        if text(right) in self.value_copies:  # a copy of a row: its elements are the copy's
            return None
        found = self._element_of(right, loops)
        if found is None or any(index is None for index in found[1]):
            return None
        base, indices, texts = found
        symbol = self.scope.lookup(base, node.start_byte)
        owner = element_type(symbol.ctype, len(indices)) \
            if symbol is not None and symbol.ctype is not None else None
        if owner is None or not owner.indexable:
            return None
        spelled = base + "".join(f"[{t}]" for t in texts)
        names = frozenset([base, *(n for index in indices
                                   for n in self.reader.atoms.plain_names(index))])
        return element_range_header(node, self.reader, spelled, owner, names), found

    def _unread_range(self, node, conditional, loops, open_loops) -> None:
        """A range-based inner loop over an expression the model cannot index (``m[0]``,
        ``grid.row(i)``): its elements are reached through the element variable, which the
        model does not track. Changing them through a reference stops the analysis; reading
        them reads all of the range's root storage."""
        right = node.child_by_field_name("right")
        declarator = node.child_by_field_name("declarator")
        names = [n for n in walk(declarator) if n.type == "identifier"] if declarator else []
        element = text(names[-1]) if names else ""
        reference = declarator is not None and "&" in text(declarator)
        constant = "const" in text(node.child_by_field_name("type") or node)
        body = node.child_by_field_name("body")
        if reference and not constant and element and _changes(body, element):
            self.model.obstacles.append(
                f"line {node.start_point[0] + 1}: the loop changes {element}, a reference into "
                f"{text(right)}, which the analysis cannot trace to an element")
            return
        roots = [n for n in walk(right) if n.type == "identifier"]
        if roots:
            self._access(text(roots[0]), (None,), ("*",), "read", node, node, conditional,
                         loops, open_loops, whole=True)

    def visit_statement(self, node, conditional: bool, loops: tuple, open_loops: int = 0):
        if node is None:
            return
        kind = node.type
        if kind in ("for_statement", "for_range_loop"):
            self._inner_loop(node, conditional, loops, open_loops)
        elif kind in ("while_statement", "do_statement"):
            condition = node.child_by_field_name("condition")
            self.visit_expression(condition, True, loops, open_loops + 1)
            self.visit_statement(node.child_by_field_name("body"), True, loops, open_loops + 1)
        elif kind == "if_statement":
            self._if(node, conditional, loops, open_loops)
        elif kind in ("return_statement", "break_statement", "continue_statement",
                      "goto_statement", "throw_statement"):
            self._exit(node, loops, open_loops, conditional)
        elif kind == "declaration":
            self._declaration(node, conditional, loops, open_loops)
        elif kind == "switch_statement":
            self.visit_expression(node.child_by_field_name("condition"), conditional, loops,
                                  open_loops)
            self.visit_statement(node.child_by_field_name("body"), True, loops, open_loops)
        elif kind in ("compound_statement", "case_statement", "labeled_statement",
                      "else_clause"):
            for child in node.named_children:
                if child.type in ("comment",):
                    continue
                if kind == "case_statement" and child == node.child_by_field_name("value"):
                    continue
                self.visit_statement(child, conditional, loops, open_loops)
        elif kind == "expression_statement":
            for child in node.named_children:
                self.visit_expression(child, conditional, loops, open_loops)
        elif kind in ("comment", "empty_statement", "preproc_call", "type_definition",
                      "alias_declaration", "using_declaration", "static_assert_declaration"):
            return
        else:
            for child in node.named_children:
                self.visit_expression(child, conditional, loops, open_loops)

    def _inner_loop(self, node, conditional, loops, open_loops) -> None:
        within = None
        try:
            nested = self._element_range(node, loops) if node.type == "for_range_loop" \
                else None
            if nested is not None:
                header, within = nested
            else:
                header = read_header(node, self.reader,
                                     lambda name, at: _type_of(self.scope, name, at))
            if header.var in _assigned_names(node.child_by_field_name("body")):
                raise NotCounted(f"the body assigns the loop variable {header.var}")
        except NotCounted as why:
            self.model.unreadable_inner.append(f"line {node.start_point[0] + 1}: {why}")
            if node.type == "for_range_loop":
                self.visit_expression(node.child_by_field_name("right"), conditional, loops,
                                      open_loops)
                self._unread_range(node, conditional, loops, open_loops)
            else:
                init = node.child_by_field_name("initializer")
                if init is not None and init.type == "declaration":  # pointers, iterators
                    self._declaration(init, True, loops, open_loops + 1)
                else:
                    self.visit_expression(init, conditional, loops, open_loops + 1)
                for field in ("condition", "update"):
                    self.visit_expression(node.child_by_field_name(field), conditional, loops,
                                          open_loops + 1)
            self.visit_statement(node.child_by_field_name("body"), True, loops, open_loops + 1)
            return
        if not loops and open_loops == 0:
            self.model.direct_inner_loops.append(node)
        self.model.inner.append(header)
        inside = (*loops, header)
        if header.range_of is not None:
            saved = dict(self.aliases), dict(self.iterators)
            self._range_element(header, node, conditional, inside, open_loops, within)
            self.visit_statement(node.child_by_field_name("body"), conditional, inside,
                                 open_loops)
            self.aliases, self.iterators = saved
            return
        init = node.child_by_field_name("initializer")
        if init is not None and init.type != "declaration":
            self.visit_expression(init, conditional, loops, open_loops)
        elif init is not None:
            self._declaration(init, conditional, loops, open_loops)
        if not header.steps_in_test:  # else the test only moves the loop's own variable
            self.visit_expression(node.child_by_field_name("condition"), conditional, inside,
                                  open_loops)
        self.visit_expression(node.child_by_field_name("update"), conditional, inside,
                              open_loops)
        self.visit_statement(node.child_by_field_name("body"), conditional, inside, open_loops)

    def _if(self, node, conditional, loops, open_loops) -> None:
        condition = node.child_by_field_name("condition")
        self.visit_expression(condition, conditional, loops, open_loops)
        holding = self._comparisons(condition, negate=False)
        saved = list(self.conditions)
        alternative = node.child_by_field_name("alternative")
        branch_else = None
        if alternative is not None:
            branch_else = next((c for c in alternative.named_children if c.type != "comment"),
                               None)
        guard = Guard(term_of(condition), alternative is not None, False, False,
                      self.is_top(node), (node.start_byte, node.end_byte), node)
        self.conditions = saved + holding
        self.frames.append((guard, _single(node.child_by_field_name("consequence"))))
        self.visit_statement(node.child_by_field_name("consequence"), True, loops, open_loops)
        self.frames[-1] = (Guard(guard.condition, True, False, True, guard.top_level,
                                 guard.span, node), _single(branch_else))
        self.conditions = saved + self._comparisons(condition, negate=True)
        self.visit_statement(alternative, True, loops, open_loops)
        self.frames.pop()
        self.conditions = saved

    def _exit(self, node, loops, open_loops, conditional) -> None:
        kind = node.type.split("_")[0]
        leaves = kind in ("return", "goto", "throw")
        if kind in ("break", "continue"):
            leaves = self._nearest_loop(node) == self.loop and kind == "break"
        values = [c for c in node.named_children if c.type != "comment"]
        self.model.exits.append(Exit(kind, node, leaves,
                                     term_of(values[0]) if values and kind == "return"
                                     else None, self.guard_of(node), self.top_index(node)))
        for child in node.named_children:
            self.visit_expression(child, conditional, loops, open_loops)

    def _nearest_loop(self, node):
        current = node.parent
        while current is not None and current.type not in (*_LOOPS, "switch_statement"):
            current = current.parent
        return current

    def _declaration(self, node, conditional, loops, open_loops) -> None:
        for child in node.children:
            if child.type != "init_declarator":
                if child.type in ("function_declarator",):  # std::vector<T> v(n);
                    for argument in walk(child):
                        if argument.type == "argument_list":
                            self.visit_expression(argument, conditional, loops, open_loops)
                continue
            declarator = child.child_by_field_name("declarator")
            value = child.child_by_field_name("value")
            name = _declared_name(declarator)
            if name is None:
                continue
            type_node = node.child_by_field_name("type")
            if self._declared_reference(name, declarator, value, conditional, loops,
                                        open_loops, text(type_node) if type_node else ""):
                continue
            if value is not None:
                self.visit_expression(value, conditional, loops, open_loops)
            self.private_objects.add(name)

    # ----- expressions ------------------------------------------------------------------
    def visit_expression(self, node, conditional, loops, open_loops=0) -> None:
        if node is None:
            return
        kind = node.type
        if kind == "assignment_expression":
            operator = text(node.child(1))
            self._write(node.child_by_field_name("left"), "write" if operator == "=" else
                        "update", operator, node, node.child_by_field_name("right"),
                        conditional, loops, open_loops)
            self.visit_expression(node.child_by_field_name("right"), conditional, loops,
                                  open_loops)
        elif kind == "update_expression":
            operator = "++" if "++" in text(node) else "--"
            self._write(node.child_by_field_name("argument"), "update", operator, node, None,
                        conditional, loops, open_loops)
        elif kind == "subscript_expression":
            self._subscript(node, "read", "", None, None, conditional, loops, open_loops)
        elif kind == "identifier":
            self._name_read(node, conditional, loops, open_loops)
        elif kind == "call_expression":
            self._call(node, conditional, loops, open_loops)
        elif kind == "field_expression":
            self._field_read(node, conditional, loops, open_loops)
        elif kind == "binary_expression" and text(node.child(1)) in ("&&", "||"):
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            self.visit_expression(left, conditional, loops, open_loops)
            saved = list(self.conditions)
            self.conditions = saved + self._comparisons(left, text(node.child(1)) == "||")
            self.visit_expression(right, True, loops, open_loops)
            self.conditions = saved
        elif kind == "conditional_expression":
            condition = node.child_by_field_name("condition")
            self.visit_expression(condition, conditional, loops, open_loops)
            saved = list(self.conditions)
            self.conditions = saved + self._comparisons(condition, False)
            self.visit_expression(node.child_by_field_name("consequence"), True, loops,
                                  open_loops)
            self.conditions = saved + self._comparisons(condition, True)
            self.visit_expression(node.child_by_field_name("alternative"), True, loops,
                                  open_loops)
            self.conditions = saved
        elif kind == "lambda_expression":
            self._lambda(node, conditional, loops, open_loops)
        elif kind == "pointer_expression":
            argument = node.child_by_field_name("argument")
            if text(node.child(0)) == "*":
                self._deref(node, argument, "read", "", None, conditional, loops, open_loops)
            else:
                self.visit_expression(argument, conditional, loops, open_loops)
        elif kind in ("number_literal", "string_literal", "char_literal", "true", "false",
                      "null", "nullptr", "comment", "type_descriptor", "primitive_type",
                      "sizeof_expression", "this", "raw_string_literal",
                      "concatenated_string", "field_identifier", "template_argument_list",
                      "namespace_identifier", "qualified_identifier"):
            return
        else:
            for child in node.named_children:
                self.visit_expression(child, conditional, loops, open_loops)

    def _write(self, target, mode, operator, node, value, conditional, loops, open_loops):
        target = strip(target)
        if target is None:
            return
        if target.type == "identifier":
            name = text(target)
            if name in self.iterators or name in self.pointers:
                kind = "iterator" if name in self.iterators else "pointer"
                self.model.obstacles.append(f"the loop moves the {kind} {name}")
                return
            if self._through_untraced(name, node):
                return
            if mode == "write" and value is not None and self._declared_inside(name, node) \
                    and self._container_kind(name, node) == "pointer" and \
                    self._refers_outside(strip(value)):  # p = &a[k] later in the body
                self.untraced[name] = " ".join(text(value).split())
                return
            if name in self.value_copies:
                return
            if name in self.aliases:
                base, indices, texts = self.aliases[name]
                if name in self.partial_aliases and mode == "write":
                    mode = "update"  # one part of the element: the rest keeps its value
                self._access(base, indices, texts, mode, node, node, conditional, loops,
                             open_loops, operator, value)
                return
            self._scalar(name, mode, operator, node, value, conditional, loops, open_loops)
            return
        if target.type == "subscript_expression":
            self._subscript(target, mode, operator, node, value, conditional, loops,
                            open_loops)
            return
        if target.type == "field_expression":
            argument = strip(target.child_by_field_name("argument"))
            member = text(target.child_by_field_name("field"))
            if argument is not None and argument.type == "subscript_expression":
                self._subscript(argument, "update" if mode == "write" else mode, operator,
                                node, value, conditional, loops, open_loops, member=member)
                return
            if argument is not None and argument.type == "identifier":
                name = text(argument)
                pointee = self._pointee(name) if text(target.child(1)) == "->" else None
                if name in self.aliases or pointee is not None:
                    base, indices, texts = self.aliases.get(name) or pointee
                    self._access(base, indices, texts, "update", node, node, conditional,
                                 loops, open_loops, operator, value, member=member)
                    return
                if text(target.child(1)) == "->":  # p->x = v writes through the pointer p
                    self._access(name, (Poly(),), ("0",), "update", node, node, conditional,
                                 loops, open_loops, operator, value, member=member)
                    self._name_read(argument, conditional, loops, open_loops)
                    return
                self._scalar(name, "update", operator, node, value, conditional, loops,
                             open_loops)
                return
        if target.type == "pointer_expression" and text(target.child(0)) == "*":
            self._deref(target, target.child_by_field_name("argument"), mode, operator,
                        value, conditional, loops, open_loops, node)
            return
        if self._checked_element(target, mode, operator, node, value, conditional, loops,
                                 open_loops):
            return
        self.model.obstacles.append(
            f"the loop writes {' '.join(text(target).split())}, which the analysis cannot "
            "trace to a variable or an element")
        self.visit_expression(target, conditional, loops, open_loops)

    def _deref(self, node, argument, mode, operator, value, conditional, loops, open_loops,
               statement=None):
        argument = strip(argument)
        pointer, offset = None, Poly()
        pointee = self._pointee(text(argument)) if argument is not None else None
        if pointee is not None:  # *it, *p
            base, indices, texts = pointee
            self._access(base, indices, texts, mode, statement or node, statement or node,
                         conditional, loops, open_loops, operator, value)
            return
        if argument is not None and argument.type == "identifier":
            pointer = text(argument)
        elif argument is not None and argument.type == "binary_expression" and \
                text(argument.child(1)) == "+":
            left = strip(argument.child_by_field_name("left"))
            if left is not None and left.type == "identifier" and \
                    text(left) not in self.iterators:  # *(it + k): not traced
                pointer = text(left)
                offset = self.reader.read(argument.child_by_field_name("right"))
                if pointer in self.pointers:  # *(p + k) is a[o + k]
                    base, start = self.pointers[pointer]
                    self._access(base, (start + offset,), (self.model.render(start + offset),),
                                 mode, statement or node, statement or node, conditional,
                                 loops, open_loops, operator, value)
                    self.visit_expression(argument.child_by_field_name("right"), conditional,
                                          loops, open_loops)
                    return
                self.visit_expression(argument.child_by_field_name("right"), conditional,
                                      loops, open_loops)
        if pointer is None:
            self.model.obstacles.append(
                f"the loop accesses memory through {' '.join(text(node).split())}, "
                "which the analysis cannot trace")
            return
        self._access(pointer, (offset,), (self.model.render(offset),), mode,
                     statement or node, statement or node, conditional, loops, open_loops,
                     operator, value)
        self._name_read(argument if argument.type == "identifier" else
                        argument.child_by_field_name("left"), conditional, loops, open_loops)

    def _subscript(self, node, mode, operator, statement, value, conditional, loops,
                   open_loops, member=None):
        indices_nodes, base_node = [], node
        while base_node is not None and base_node.type == "subscript_expression":
            argument = base_node.child_by_field_name("indices") or base_node.child(1)
            inner = [c for c in argument.named_children if c.type != "comment"]
            indices_nodes.insert(0, inner[0] if len(inner) == 1 else None)
            base_node = strip(base_node.child_by_field_name("argument"))
        for index_node in indices_nodes:
            self.visit_expression(index_node, conditional, loops, open_loops)
        base = self._base_name(base_node, conditional, loops, open_loops)
        if base is None:
            self.model.obstacles.append(
                f"the loop accesses {' '.join(text(node).split())}, whose array the analysis "
                "cannot identify")
            return
        if self._map_insertion(base, node):
            return
        indices = tuple(self.reader.read(i) if i is not None else None for i in indices_nodes)
        texts = tuple(" ".join(text(i).split()) if i is not None else "?"
                      for i in indices_nodes)
        if base in self.aliases:  # e[k] where e refers to an element (a row of a 2D vector)
            outer, outer_indices, outer_texts = self.aliases[base]
            base, indices, texts = outer, outer_indices + indices, outer_texts + texts
        elif base in self.pointers:  # p[k] where p points at a[o]: a[o + k]
            base, indices, texts = self._pointed(base, indices, texts)
        self._access(base, indices, texts, mode, statement or node, statement or node,
                     conditional, loops, open_loops, operator, value, member=member)

    def _map_insertion(self, base: str, node) -> bool:
        """``m[k]`` on a non-const std::map inserts: a change of the map, not an element."""
        symbol = self.scope.lookup(base.split(".")[0], node.start_byte)
        ctype = symbol.ctype if symbol is not None else None
        if ctype is None or ctype.kind != "container" or "map" not in ctype.name:
            return False
        private = base in self.private_objects or self._declared_inside(base, node)
        if not ctype.const:
            self.model.calls.append(CallSite(CallEffect("mutates", "operator[]", (base,)),
                                             node, node.start_point[0] + 1, private))
        return True

    def _base_name(self, node, conditional, loops, open_loops) -> str | None:
        if node is None:
            return None
        if node.type == "identifier":
            return None if text(node) in self.iterators else text(node)  # it[k]: not traced
        if node.type == "field_expression":  # d.x[i]: the member path is the base
            argument = strip(node.child_by_field_name("argument"))
            if argument is not None and text(argument) in self.iterators:
                return None  # it->m[k]: an element's member array, not traced
            if argument is not None and argument.type in ("identifier", "field_expression",
                                                          "this"):
                if text(node.child(1)) == "->" and argument.type == "identifier":
                    self._name_read(argument, conditional, loops, open_loops)
                return normalized(node).replace("->", ".").replace("this.", "")
        return None

    def _access(self, base, indices, texts, mode, node, statement, conditional, loops,
                open_loops=0, operator="", value=None, member=None, whole=False,
                checked=False):
        root = base.split(".")[0]
        if mode != "read" and self._through_untraced(root, node, indirect=True):
            return
        if mode == "read" and self._read_through(root, node, conditional, loops, open_loops):
            return
        if root in self.private_objects or self._declared_inside(root, node):
            return  # storage of the iteration's own (a local array or container)
        self._note_base(base, node)
        statement = _statement_of(node)
        self.model.accesses.append(Access(
            base=base, indices=tuple(indices), texts=tuple(texts), mode=mode,
            operator=operator, node=node, statement=statement, value=value,
            conditions=tuple(self.conditions), conditional=conditional,
            loops=tuple(loops), open_loops=open_loops, member=member, whole=whole,
            term=term_of(value) if value is not None else None,
            guard=self.guard_of(statement), top_index=self.top_index(node),
            standalone=statement is not None and statement.type == "expression_statement"
            and node is not None and node.parent == statement, checked=checked))

    def _declared_inside(self, name, node) -> bool:
        symbol = self.scope.lookup(name, node.start_byte if node is not None else
                                   self.loop.start_byte)
        return symbol is not None and symbol.where == "local" and (
            self.loop.start_byte <= symbol.node.start_byte < self.loop.end_byte)

    def _container_kind(self, name, node):
        symbol = self.scope.lookup(name, node.start_byte) if node is not None else None
        return symbol.ctype.kind if symbol is not None else None

    def _note_base(self, name: str, node) -> None:
        if name in self.model.bases:
            return
        root = name.split(".")[0]
        symbol = self.scope.lookup(root, node.start_byte if node is not None else
                                   self.loop.start_byte)
        if symbol is None:
            self.model.bases[name] = Base(name, CType("unknown", "?"), "unknown")
            return
        ctype = symbol.ctype
        where = symbol.where
        if "." in name:  # a member path: d.x reaches the member's declared type
            ctype = _member_type(self.scope, ctype, name.split(".")[1:]) or CType("unknown", "?")
            where = "member"
        distinct = (symbol.where == "local" and not symbol.ctype.reference and
                    ctype.kind in ("array", "vector", "std_array", "string", "bool_vector")) \
            or (ctype.restrict and (ctype.kind == "pointer" or symbol.ctype.reference))
        self.model.bases[name] = Base(name, ctype, where, distinct)

    def _scalar(self, name, mode, operator, node, value, conditional, loops, open_loops):
        if mode != "read" and self._through_untraced(name, node):
            return
        if name in self.private_objects or self._declared_inside(name, node):
            return
        symbol = self.scope.lookup(name, node.start_byte)
        if symbol is not None and symbol.ctype.kind not in _VALUE_KINDS and mode != "read":
            self._access(name, (None,), ("*",), mode, node, node, conditional, loops,
                         open_loops, operator, value, whole=True)
            return
        statement = _statement_of(node)
        self.model.scalars.setdefault(name, []).append(ScalarEvent(
            name=name, mode=mode, operator=operator, node=node, statement=statement,
            value=value, conditional=conditional or bool(loops) or open_loops > 0,
            top_level=self.is_top(statement) and not conditional,
            in_inner_loop=bool(loops) or open_loops > 0, position=node.start_byte,
            term=term_of(value) if value is not None else None,
            guard=self.guard_of(statement), top_index=self.top_index(node)))

    def _name_read(self, node, conditional, loops, open_loops) -> None:
        name = text(node)
        parent = node.parent
        if parent is not None and parent.type in ("call_expression",) and \
                parent.child_by_field_name("function") == node:
            return
        if name in self.pointers:  # p read as a value (passed on): all of its array
            self._access(self.pointers[name][0], (None,), ("*",), "read", node, node,
                         conditional, loops, open_loops, whole=True)
            return
        if name in self.iterators:
            self.model.obstacles.append(
                f"line {node.start_point[0] + 1}: the loop uses the iterator {name} other than "
                f"as *{name} or {name}->member (write it as an index loop)")
            return
        if name in self.aliases:
            if name in self.value_copies:
                return  # the copy was read once at the top of the iteration
            base, indices, texts = self.aliases[name]
            self._access(base, indices, texts, "read", node, node, conditional, loops,
                         open_loops)
            return
        if name == self.model.header.var or name in self.private_objects or \
                self._declared_inside(name, node):
            return
        symbol = self.scope.lookup(name, node.start_byte)
        if symbol is None:
            return  # an enumerator, a macro or a function name: nothing the loop changes
        if symbol.ctype.kind in _VALUE_KINDS:
            self._scalar(name, "read", "", node, None, conditional, loops, open_loops)
        else:
            self._access(name, (None,), ("*",), "read", node, node, conditional, loops,
                         open_loops, whole=True)

    def _field_read(self, node, conditional, loops, open_loops) -> None:
        argument = strip(node.child_by_field_name("argument"))
        if argument is None:
            return
        if argument.type == "subscript_expression":
            self._subscript(argument, "read", "", None, None, conditional, loops, open_loops,
                            member=text(node.child_by_field_name("field")))
        elif argument.type == "identifier" and text(node.child(1)) == "->":
            base, indices, texts = self._pointee(text(argument)) or (
                text(argument), (Poly(),), ("0",))
            self._access(base, indices, texts, "read", node, node, conditional, loops,
                         open_loops, member=text(node.child_by_field_name("field")))
        else:
            path = self._base_name(node, conditional, loops, open_loops)
            symbol = self.scope.lookup(path.split(".")[0], node.start_byte) if path else None
            member_type = _member_type(self.scope, symbol.ctype, path.split(".")[1:]) \
                if symbol is not None else None
            if member_type is not None and member_type.indexable:
                self._access(path, (None,), ("*",), "read", node, node, conditional, loops,
                             open_loops, whole=True)
            else:
                self.visit_expression(argument, conditional, loops, open_loops)

    def _element_of(self, value, loops):
        """(base, indices, texts) when ``value`` names one element (``x[i]``, ``a[i][j]``)."""
        if value is None:
            return None
        if value.type == "identifier" and text(value) in self.aliases:
            return self.aliases[text(value)]
        if value.type == "pointer_expression" and text(value.child(0)) == "*" and \
                text(strip(value.child_by_field_name("argument"))) in self.iterators:
            return self.iterators[text(strip(value.child_by_field_name("argument")))]
        if value.type != "subscript_expression":
            return None
        indices_nodes, base_node = [], value
        while base_node is not None and base_node.type == "subscript_expression":
            argument = base_node.child_by_field_name("indices") or base_node.child(1)
            inner = [c for c in argument.named_children if c.type != "comment"]
            indices_nodes.insert(0, inner[0] if len(inner) == 1 else None)
            base_node = strip(base_node.child_by_field_name("argument"))
        if base_node is None or base_node.type != "identifier" or None in indices_nodes:
            return None
        for index_node in indices_nodes:
            self.visit_expression(index_node, False, loops)
        base = text(base_node)
        indices = tuple(self.reader.read(i) for i in indices_nodes)
        texts = tuple(" ".join(text(i).split()) for i in indices_nodes)
        if base in self.aliases and base not in self.value_copies:  # row[j] of row = m[i]
            outer, outer_indices, outer_texts = self.aliases[base]
            return outer, outer_indices + indices, outer_texts + texts
        if base in self.pointers:  # p[k] of p = &a[o]
            return self._pointed(base, indices, texts)
        if base in self.iterators or base in self.untraced or base in self.value_copies:
            return None
        return base, indices, texts

    def _comparisons(self, node, negate: bool) -> list[Comparison]:
        node = strip(node)
        if node is None:
            return []
        if node.type == "condition_clause":
            inner = [c for c in node.named_children if c.type != "comment"]
            return self._comparisons(inner[-1], negate) if inner else []
        if node.type == "unary_expression" and text(node.child(0)) == "!":
            return self._comparisons(node.child_by_field_name("argument"), not negate)
        if node.type == "binary_expression":
            operator = text(node.child(1))
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if (operator == "&&" and not negate) or (operator == "||" and negate):
                return self._comparisons(left, negate) + self._comparisons(right, negate)
        parts = comparison_parts(node)
        if parts is None:
            return []
        left, operator, right = parts
        return [Comparison(self.reader.read(left),
                           _NEGATED[operator] if negate else operator, self.reader.read(right))]


def _changes(body, name: str) -> bool:
    """``name`` is assigned, incremented, passed to a call or has a member called in
    ``body`` (any of which may change what it refers to)."""
    if name in _assigned_names(body):
        return True
    for node in walk(body):
        if node.type != "identifier" or text(node) != name:
            continue
        parent = node.parent
        if parent is not None and parent.type == "argument_list":
            return True
        if parent is not None and parent.type == "field_expression" and \
                parent.parent is not None and parent.parent.type == "call_expression":
            return True
    return False
