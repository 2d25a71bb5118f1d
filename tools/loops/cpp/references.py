"""References and pointers a loop body declares, as the C/C++ walk meets them.

A local reference or pointer is not the iteration's own storage when it refers to storage
outside the loop: ``auto& row = m[i]`` names an element (an alias), ``double* p = &a[i * n]``
or ``const double* q = x + k`` points into an array (``p[j]`` is ``a[i * n + j]``), and one
the model cannot trace (``double& r = total``, ``auto& out = pick(v)``) makes every write
through it an obstacle, since the writes reach shared storage the loop does not name."""

from __future__ import annotations

from ellora.tools.loops.cpp.reader import strip
from ellora.tools.loops.cpp.scope import text, walk
from ellora.tools.loops.expr import Poly

_FRESH = ("new_expression",)
_ALLOCATORS = ("malloc", "calloc", "std::malloc", "std::calloc", "alloca")


class ReferencesMixin:
    """Declared references and pointers of the body walker (it provides _element_of,
    visit_expression, scope, reader, model, aliases, pointers, untraced, private_objects)."""

    def _declared_reference(self, name: str, declarator, value, conditional, loops,
                            open_loops, type_text: str = "") -> bool:
        """Handle ``name``'s declaration when it is a reference or a pointer into storage
        outside the loop; False when it is an ordinary local (the caller goes on). An
        ``auto`` (or iterator) local made from outside storage may be an iterator or a
        pointer: writes through it (``*it = v``, ``it[k] = v``) are noted as untraced."""
        for known in (self.aliases, self.pointers, self.untraced, self.indirect, self.reached):
            known.pop(name, None)  # a new declaration of the name hides the one before
        self.value_copies.discard(name)
        self.partial_aliases.discard(name)
        if value is None:
            return False
        value = strip(value)
        is_reference = declarator.type == "reference_declarator"
        is_pointer = declarator.type == "pointer_declarator" or (
            value is not None and value.type == "pointer_expression"
            and text(value.child(0)) == "&")
        if not (is_reference or is_pointer):
            if ("auto" in type_text.split() or "iterator" in type_text) and \
                    self._refers_outside(value):
                self.indirect[name] = " ".join(text(value).split())
                self.reached[name] = self._outside_roots(value)
            return False
        if is_reference:
            target = self._element_of(value, loops)
            if target is not None:
                self.aliases[name] = target
                return True
        else:
            address = self._address_of(value, conditional, loops, open_loops)
            if address is not None:
                self.pointers[name] = address
                return True
        if self._refers_outside(value):
            self.untraced[name] = " ".join(text(value).split())
            self.reached[name] = self._outside_roots(value)
        return False

    def _address_of(self, value, conditional, loops, open_loops):
        """(base, offset) when ``value`` is ``&x[e]``, ``x``, ``x + e`` or ``v.data() + e`` for
        an array ``x`` (or container ``v``) declared outside the loop; else None."""
        offset = Poly()
        if value is not None and value.type == "binary_expression" and \
                text(value.child(1)) == "+":
            right = value.child_by_field_name("right")
            offset = self.reader.read(right)
            self.visit_expression(right, conditional, loops, open_loops)
            value = strip(value.child_by_field_name("left"))
        if value is None:
            return None
        if value.type == "pointer_expression" and text(value.child(0)) == "&":
            element = self._element_of(strip(value.child_by_field_name("argument")), loops)
            if element is None or len(element[1]) != 1 or element[1][0] is None:
                return None
            base, (index,), _ = element
            return (base, index + offset) if self._outside(base, value) else None
        if value.type == "call_expression":
            function = value.child_by_field_name("function")
            if function is None or function.type != "field_expression" or \
                    text(function.child_by_field_name("field")) != "data":
                return None
            owner = strip(function.child_by_field_name("argument"))
            if owner is None or owner.type != "identifier":
                return None
            base = text(owner)
            return (base, offset) if self._outside(base, value) else None
        if value.type == "identifier":
            base = text(value)
            symbol = self.scope.lookup(base, value.start_byte)
            if symbol is None or symbol.ctype.kind not in ("pointer", "array") or \
                    not self._outside(base, value):
                return None
            return base, offset
        return None

    def _outside(self, name: str, node) -> bool:
        return name not in self.private_objects and not self._declared_inside(name, node) \
            and name not in self.untraced and name not in self.pointers

    def _refers_outside(self, value) -> bool:
        """``value`` may refer to storage outside the loop (it names such a variable and is
        not a fresh allocation)."""
        if value is None or value.type in _FRESH:
            return False
        if value.type == "call_expression" and text(
                value.child_by_field_name("function")) in _ALLOCATORS:
            return False
        for node in walk(value):
            if node.type != "identifier":
                continue
            parent = node.parent
            if parent is not None and parent.type == "call_expression" and \
                    parent.child_by_field_name("function") == node:
                continue
            name = text(node)
            if name in self.untraced or name in self.pointers or name in self.iterators or (
                    name in self.aliases and name not in self.value_copies):
                return True
            symbol = self.scope.lookup(name, node.start_byte)
            if symbol is not None and not self._declared_inside(name, node) and \
                    name not in self.private_objects:
                return True
        return False

    def _outside_roots(self, value) -> tuple[str, ...]:
        """The storage outside the loop ``value`` names (through aliases and pointers too)."""
        roots = []
        for node in walk(value):
            if node.type != "identifier":
                continue
            name = text(node)
            if name in self.aliases and name not in self.value_copies:
                roots.append(self.aliases[name][0])
            elif name in self.pointers:
                roots.append(self.pointers[name][0])
            elif name in self.iterators:
                roots.append(self.iterators[name][0])
            elif name in self.reached:
                roots.extend(self.reached[name])
            else:
                symbol = self.scope.lookup(name, node.start_byte)
                if symbol is not None and not self._declared_inside(name, node) and \
                        name not in self.private_objects:
                    roots.append(name)
        return tuple(dict.fromkeys(roots))

    def _read_through(self, name: str, node, conditional, loops, open_loops) -> bool:
        """A read through an untraced reference or an ``auto`` local made from outside
        storage: all of what it may reach is read (True); False when it is not one."""
        if name not in self.reached:
            return False
        for root in self.reached[name]:
            symbol = self.scope.lookup(root.split(".")[0], node.start_byte)
            if symbol is not None and symbol.ctype.kind in ("scalar", "bool", "complex"):
                self._scalar(root, "read", "", node, None, conditional, loops, open_loops)
            else:
                self._access(root, (None,), ("*",), "read", node, node, conditional, loops,
                             open_loops, whole=True)
        return True

    def _through_untraced(self, name: str, node, indirect: bool = False) -> bool:
        """A write through ``name``, a reference or pointer the model cannot trace (with
        ``indirect``, also an ``auto`` local made from outside storage, written through with
        ``*``, ``[]`` or ``->``): noted as an obstacle (True); False when it is not one."""
        source = self.untraced.get(name) or (self.indirect.get(name) if indirect else None)
        if source is None:
            return False
        self.model.obstacles.append(
            f"line {node.start_point[0] + 1}: the loop writes through {name}, which refers to "
            f"{source}: storage outside the loop the analysis cannot trace to an element")
        return True
