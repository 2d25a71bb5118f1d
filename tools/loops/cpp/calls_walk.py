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
            if kind is None and _pure_local_lambda(self.scope, name, node):
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
        self.model.calls.append(CallSite(effect, node, line))

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

    def _lambda(self, node) -> None:
        """A lambda is pure when its body writes only its own parameters and locals."""
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


def _file_function_effect(scope, name: str) -> str:
    from ellora.tools.loops.cpp.purity import function_effect

    return function_effect(scope.file, name)


def _pure_local_lambda(scope, name: str, node) -> bool:
    """``name`` is a variable holding a lambda that captures nothing and writes only its own
    parameters and locals (``auto f = [](double x) { return x * x; };``): calling it reads
    its arguments only."""
    symbol = scope.lookup(name, node.start_byte)
    value = strip(symbol.initializer) if symbol is not None and symbol.initializer is not None \
        else None
    if value is None or value.type != "lambda_expression" or symbol.ctype.kind != "auto":
        return False
    captures = value.child_by_field_name("captures")
    if captures is None or normalized(captures) != "[]":
        return False
    from ellora.tools.loops.algorithms import _pure_predicate

    return _pure_predicate(value)
