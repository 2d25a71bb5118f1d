"""The calls of a loop body as the C/C++ walk meets them: free functions through the one
table (calls.py) or the file's purity, members of containers (const, mutating, ``at``),
algorithms reading ranges, lambdas that write nothing outside themselves."""

from __future__ import annotations

import re

from ellora.tools.loops.calls import (
    ARGUMENT_WRITERS,
    CONST_MEMBERS,
    MUTATING_MEMBERS,
    CallEffect,
    classify_name,
)
from ellora.tools.loops.cpp.reader import normalized, strip
from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.model import CallSite

_CONSTRUCTIBLE = re.compile(r"^(?:std::)?(?:complex|pair|tuple|string|array|vector)(?:<.*>)?$"
                            r"|^(?:unsigned |signed |long |short )*(?:int|double|float|char|"
                            r"bool|long|short|size_t)$")


class CallsMixin:
    """Call handling of the body walker (it provides visit_expression, _write, _access,
    _subscript, private_objects, model, scope, reader)."""

    def _call(self, node, conditional, loops, open_loops) -> None:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        named = [a for a in arguments.named_children if a.type != "comment"] \
            if arguments is not None else []
        line = node.start_point[0] + 1
        if function is not None and function.type == "field_expression":
            self._member_call(node, function, named, conditional, loops, open_loops, line)
            return
        name = re.sub(r"<.*?>(?=::|$)", "", normalized(function)) if function is not None \
            else "?"
        name = re.sub(r"<.*>", "", name)
        spelled = normalized(function) if function is not None else ""
        if re.fullmatch(r"(?:static|reinterpret|const|dynamic)_cast<.*>", spelled) or \
                _CONSTRUCTIBLE.match(spelled) or name in self.scope.file.structs:
            effect = CallEffect("constructs", spelled)
        else:
            kind = classify_name(name)
            if kind is None and self._local_lambda_call(name, node, conditional, loops,
                                                        open_loops):
                kind = "pure"
            if kind is None and name in self.scope.file.macros:  # arithmetic: reads its args
                kind = "pure"
            if kind is None:
                kind = _file_function_effect(self.scope, name.split("::")[-1])
            effect = CallEffect(kind, name, written=ARGUMENT_WRITERS.get(name, ()))
        if effect.kind == "writes_arguments":
            for position, argument in enumerate(named):
                if position in effect.written:
                    self._write(argument, "update", "swap", node, None, conditional, loops,
                                open_loops)
                else:
                    self.visit_expression(argument, conditional, loops, open_loops)
            self.model.calls.append(CallSite(effect, node, line))
            return
        if effect.kind in ("reads", "constructs"):  # a range read whole: std::vector(b, e)
            objects = tuple(self._range_reads(named, conditional, loops, open_loops))
            effect = CallEffect(effect.kind, effect.name, objects)
        else:
            for argument in named:
                self.visit_expression(argument, conditional, loops, open_loops)
                self._passed_array(argument, conditional, loops, open_loops)
        self.model.calls.append(CallSite(effect, node, line))

    def _passed_array(self, argument, conditional, loops, open_loops) -> None:
        """A pointer passed to a function (``p``, ``p + k``, ``&a[k]``) hands it the array
        behind it: the call may read any of its elements."""
        bare = strip(argument)
        while bare is not None and bare.type in ("cast_expression", "binary_expression"):
            if bare.type == "cast_expression":
                bare = strip(bare.child_by_field_name("value"))
            else:
                bare = strip(bare.child_by_field_name("left"))
        base = None
        if bare is not None and bare.type == "pointer_expression" and \
                text(bare.child(0)) == "&":
            inner = strip(bare.child_by_field_name("argument"))
            if inner is not None and inner.type == "subscript_expression":
                base = self._array_behind(strip(inner.child_by_field_name("argument")), inner)
        elif bare is not None and bare.type == "identifier":
            symbol = self.scope.lookup(text(bare), bare.start_byte)
            if symbol is not None and symbol.ctype.kind == "pointer":
                base = self._array_behind(bare, bare)
        if base is not None:
            self._access(base, (None,), ("*",), "read", argument, argument, conditional,
                         loops, open_loops, whole=True)

    def _array_behind(self, node, at) -> str | None:
        """The array a pointer or array name reaches: its own name, or the array a local
        pointer was set to (``p = &a[k]``)."""
        if node is None or node.type != "identifier":
            return None
        name = text(node)
        if name in self.pointers:
            return self.pointers[name][0]
        if name == self.model.header.var or name in self.private_objects or \
                self._declared_inside(name, at):
            return None
        return name

    def _local_lambda_call(self, name, node, conditional, loops, open_loops) -> bool:
        """A call of a local variable holding a pure lambda: records what the lambda reads
        of the enclosing function (its captures: scalars as values, arrays and containers
        whole) and says True; False (nothing recorded) when it is not one, or a capture
        cannot be followed (a pointer or reference made inside the loop, a struct or
        ``auto`` whose members or elements it reads, a name shadowed at the call)."""
        from ellora.tools.loops.cpp.purity import lambda_reads

        symbol = self.scope.lookup(name, node.start_byte)
        value = strip(symbol.initializer) if symbol is not None and \
            symbol.initializer is not None else None
        if value is None or value.type != "lambda_expression" or symbol.ctype.kind != "auto":
            return False
        captured = lambda_reads(value, self.scope.file)
        reads = self._capture_reads(captured, value, node) if captured is not None else None
        if reads is None:
            return False
        self._read_captures(reads, node, conditional, loops, open_loops)
        return True

    def _read_captures(self, reads, node, conditional, loops, open_loops) -> None:
        """Record what a lambda call at ``node`` reads: arrays whole, scalars as values."""
        for capture, whole in reads:
            if whole:
                self._access(capture, (None,), ("*",), "read", node, node, conditional, loops,
                             open_loops, whole=True)
            else:
                self._scalar(capture, "read", "", node, None, conditional, loops, open_loops)

    def _capture_reads(self, captured: dict[str, bool], lambda_node, call):
        """(name, read whole) per capture the loop must account for; None when one cannot
        be followed."""
        reads = []
        for capture, only_value in captured.items():
            if capture == self.model.header.var:
                continue
            defined = self.scope.lookup(capture, lambda_node.start_byte)
            if defined is None:
                if capture in self.scope.file.macros or capture in self.scope.file.functions:
                    continue
                return None  # an enumerator or something the scope does not know
            if self.scope.lookup(capture, call.start_byte) is not defined:
                return None  # shadowed where the lambda is called
            ctype = defined.ctype
            inside = capture in self.private_objects or self._declared_inside(capture, call)
            if inside:
                if capture in self.pointers or capture in self.aliases or \
                        capture in self.iterators or capture in self.untraced or \
                        ctype.reference or ctype.kind in ("pointer", "span"):
                    return None  # it reaches outside the iteration by a path not followed
                continue  # the iteration's own value or container
            if ctype.reference and ctype.kind in ("auto", "unknown"):
                return None
            if ctype.kind == "pointer":
                reads += [(capture, False), (capture, True)]
            elif ctype.kind in ("scalar", "bool", "complex"):
                reads.append((capture, False))
            elif ctype.kind in ("struct", "auto", "unknown"):
                if not only_value:
                    return None  # its members or elements are read: not followed
                reads.append((capture, False))
            else:
                reads.append((capture, True))
        return reads

    def _member_call(self, node, function, named, conditional, loops, open_loops, line):
        member = text(function.child_by_field_name("field"))
        owner = strip(function.child_by_field_name("argument"))
        owner_name = None
        if owner is not None and owner.type in ("identifier", "field_expression"):
            owner_name = normalized(owner).replace("->", ".")
        private = owner_name is not None and owner_name.split(".")[0] not in self.untraced \
            and (owner_name.split(".")[0] in self.private_objects
            or self._declared_inside(owner_name.split(".")[0], node))
        for argument in named:
            self.visit_expression(argument, conditional, loops, open_loops)
        if owner is not None and owner.type == "subscript_expression":
            self._subscript(owner, "read" if member in CONST_MEMBERS else "update",
                            member, None, None, conditional, loops, open_loops)
        if member in ("at",) and owner_name and named:
            self._access(owner_name, (self.reader.read(named[0]),),
                         (" ".join(text(named[0]).split()),), "read", node, node,
                         conditional, loops, open_loops,
                         checked=self._sequence(owner_name, node))
            effect = CallEffect("const_member", member, (owner_name,))
        elif member in CONST_MEMBERS:
            effect = CallEffect("const_member", member, (owner_name or "?",))
        elif member in MUTATING_MEMBERS and self._owned_element(owner, function, node):
            # v[i].push_back(x): the element object changes, recorded as its update above
            effect = CallEffect("writes_arguments", member, (" ".join(text(owner).split()),))
        elif member in MUTATING_MEMBERS:
            effect = CallEffect("mutates", member, (owner_name or "?",))
        else:
            effect = CallEffect("unknown", f"{owner_name or '?'}.{member}", (owner_name or "?",))
        self.model.calls.append(CallSite(effect, node, line, private_object=private))

    def _owned_element(self, owner, function, node) -> bool:
        """``v[i].m(...)`` (``.``, not ``->``) on an element that is itself a standard
        container held by value (``std::vector<std::vector<int>>``): the element's own
        storage, which no other element shares."""
        if owner is None or owner.type != "subscript_expression" or \
                text(function.child(1)) != ".":
            return False
        depth, base = 0, owner
        while base is not None and base.type == "subscript_expression":
            depth += 1
            base = strip(base.child_by_field_name("argument"))
        if base is None or base.type != "identifier":
            return False
        symbol = self.scope.lookup(text(base), node.start_byte)
        if symbol is None or symbol.ctype is None:
            return False
        from ellora.tools.loops.cxx_types import element_type

        element = element_type(symbol.ctype, depth)
        return element is not None and (
            element.kind in ("vector", "string", "bool_vector") or (
                element.kind == "container" and re.search(
                    r"\b(deque|list|set|map|unordered_set|unordered_map|multiset|multimap)<",
                    element.name) is not None))

    def _sequence(self, owner: str, node) -> bool:
        """Whether ``owner.at(k)`` is element k of a sequence container (a std::vector,
        std::array, std::string, std::deque), which throws past its end."""
        symbol = self.scope.lookup(owner.split(".")[0], node.start_byte)
        ctype = symbol.ctype if symbol is not None and "." not in owner else None
        if ctype is None:
            return False
        return ctype.kind in ("vector", "std_array", "string", "bool_vector") or (
            ctype.kind == "container" and "deque" in ctype.name)

    def _checked_element(self, target, mode, operator, node, value, conditional, loops,
                         open_loops) -> bool:
        """``c.at(k) = v`` (``+=``, ``++``) on a sequence container: element k written,
        checked against the end (the legality result keeps that check)."""
        if target.type != "call_expression":
            return False
        function = target.child_by_field_name("function")
        arguments = target.child_by_field_name("arguments")
        if function is None or function.type != "field_expression" or arguments is None or \
                text(function.child_by_field_name("field")) != "at":
            return False
        owner = strip(function.child_by_field_name("argument"))
        named = [a for a in arguments.named_children if a.type != "comment"]
        if owner is None or owner.type != "identifier" or len(named) != 1 or \
                not self._sequence(text(owner), node):
            return False
        self.visit_expression(named[0], conditional, loops, open_loops)
        self._access(text(owner), (self.reader.read(named[0]),),
                     (" ".join(text(named[0]).split()),), mode, node, node, conditional,
                     loops, open_loops, operator, value, checked=True)
        return True

    def _range_reads(self, arguments, conditional, loops, open_loops) -> list[str]:
        """The containers whose ranges an algorithm reads (``v.begin()``, ``std::end(v)``,
        ``p``, ``p + n``); other arguments are visited as values."""
        objects = []
        for argument in arguments:
            found = None
            bare = strip(argument)
            if bare is not None and bare.type == "call_expression":
                callee = bare.child_by_field_name("function")
                if callee is not None and callee.type == "field_expression" and text(
                        callee.child_by_field_name("field")) in (
                        "begin", "end", "cbegin", "cend", "data", "rbegin", "rend"):
                    found = normalized(callee.child_by_field_name("argument"))
                elif callee is not None and normalized(callee) in (
                        "std::begin", "std::end", "std::cbegin", "std::cend", "std::data"):
                    inner = bare.child_by_field_name("arguments").named_children
                    found = normalized(inner[0]) if inner else None
            if found is not None and re.fullmatch(r"[\w.]+", found):
                objects.append(found)
                self._access(found, (None,), ("*",), "read", argument, argument, conditional,
                             loops, open_loops, whole=True)
            else:
                self.visit_expression(argument, conditional, loops, open_loops)
        return objects

    def _lambda(self, node, conditional=False, loops=(), open_loops=0) -> None:
        """A lambda made in the loop body: its body may write only its own parameters and
        locals (an algorithm's element parameter included), and what it reads of the
        enclosing function is read by the loop."""
        from ellora.tools.loops.cpp.purity import captured_names

        body = node.child_by_field_name("body")
        own = {text(n) for n in walk(node) if n.type == "identifier" and n.parent is not None
               and n.parent.type in ("parameter_declaration", "init_declarator",
                                     "reference_declarator", "pointer_declarator")}
        for found in walk(body) if body is not None else []:
            target = None
            if found.type == "assignment_expression":
                target = found.child_by_field_name("left")
            elif found.type == "update_expression":
                target = found.child_by_field_name("argument")
            if target is not None:
                root = re.match(r"\w+", normalized(target))
                if root is None or root.group(0) not in own:
                    self.model.calls.append(CallSite(
                        CallEffect("unknown", "a lambda that writes " + normalized(target)),
                        node, node.start_point[0] + 1))
                    return
        reads = self._capture_reads(captured_names(node, self.scope.file), node, node) \
            if not any(n.type == "this" for n in walk(node)) else None
        if reads is None:
            self.model.calls.append(CallSite(
                CallEffect("unknown", "a lambda whose captures the loop cannot follow"),
                node, node.start_point[0] + 1))
            return
        self._read_captures(reads, node, conditional, loops, open_loops)


def _file_function_effect(scope, name: str) -> str:
    from ellora.tools.loops.cpp.purity import function_effect

    return function_effect(scope.file, name)
