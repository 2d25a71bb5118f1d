"""The Fortran front end: tree-sitter-fortran trees to the same loop models the C/C++ front
end builds (one model, two readers), so the legality rules and region planning are shared.

Counted loops are ``do i = a, b[, s]`` and ``do concurrent``; ``do while`` and ``do`` without
control are reported as not counted. Names are lower-cased everywhere.
"""

from __future__ import annotations

from ellora.tools.loops.fortran.scope import (
    FileScope,
    ProcedureScope,
    read_file_scope,
    read_procedure_scope,
)
from ellora.tools.loops.fortran.syntax import (
    enclosing_unit,
    loop_body,
    loop_kind,
    lower,
    parse,
    unit_name,
    walk,
)
from ellora.tools.loops.model import FunctionContext, LoopModel

COUNTED = ("do", "do concurrent")


def _counted(node) -> bool:
    return node.type == "do_loop" and loop_kind(node) in COUNTED


class FortranSource:
    """One parsed Fortran file: its tree, file scope and the context of each procedure."""

    language = "fortran"

    def __init__(self, source: str, tree=None):
        self.source = source
        self.tree = tree if tree is not None else parse(source)
        self.file_scope: FileScope = read_file_scope(self.tree.root_node)
        self._contexts: dict[int, FunctionContext] = {}

    def context_for(self, node) -> FunctionContext:
        """The procedure (or main program) around ``node``, with its scope and atoms."""
        unit = enclosing_unit(node) if node.type not in ("subroutine", "function",
                                                         "program") else node
        if unit is None:
            unit = self.tree.root_node
        key = unit.start_byte
        if key not in self._contexts:
            scope: ProcedureScope = read_procedure_scope(unit, self.file_scope)
            name = unit_name(unit) if unit != self.tree.root_node else None
            self._contexts[key] = FunctionContext(self.source, "fortran", unit, scope,
                                                  name=name or "loop")
        return self._contexts[key]

    def loop_model(self, loop) -> LoopModel:
        """The model of a ``do`` loop; NotCounted when it is not a counted loop."""
        from ellora.tools.loops.fortran.build import build_model

        return build_model(loop, self.context_for(loop))

    def loops_in_lines(self, first_line: int, last_line: int) -> list:
        """Outermost counted ``do`` loops starting inside the line range."""
        found = []
        for node in walk(self.tree.root_node):
            if not _counted(node):
                continue
            start = node.start_point[0] + 1
            if first_line <= start <= last_line and not _loop_above(node, first_line):
                found.append(node)
        return found

    def direct_inner_loops(self, loop) -> list:
        """The counted loops right inside ``loop``'s body (not inside another loop there)."""
        found, stack = [], list(reversed(loop_body(loop)))
        while stack:
            node = stack.pop()
            if _counted(node):
                found.append(node)
                continue
            if node.type == "do_loop":
                stack.extend(reversed(loop_body(node)))
                continue
            stack.extend(reversed(node.named_children))
        return found

    def uncounted_loops(self, first_line: int, last_line: int) -> list:
        """``do while`` and bare ``do`` loops starting in the lines and not inside a loop
        that starts there."""
        found = []
        for node in walk(self.tree.root_node):
            if node.type != "do_loop" or _counted(node):
                continue
            if not first_line <= node.start_point[0] + 1 <= last_line:
                continue
            parent, inside = node.parent, False
            while parent is not None:
                if parent.type == "do_loop" and parent.start_point[0] + 1 >= first_line:
                    inside = True
                    break
                parent = parent.parent
            if not inside:
                found.append(node)
        return found

    @staticmethod
    def loop_kind(loop) -> str:
        return loop_kind(loop)

    @staticmethod
    def assigned_names(node) -> set[str]:
        """Scalars assigned under ``node`` (targets and do-loop variables)."""
        names = set()
        for found in walk(node):
            if found.type == "assignment_statement":
                left = found.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    names.add(lower(left))
            elif found.type == "loop_control_expression" and found.named_children:
                names.add(lower(found.named_children[0]))
        return names

    @staticmethod
    def declared_names(node) -> set[str]:
        """Names declared by ``block`` constructs under ``node``."""
        names = set()
        for found in walk(node):
            if found.type == "variable_declaration" and found.parent is not None and \
                    found.parent.type == "block_construct":
                for declarator in found.children_by_field_name("declarator"):
                    name = declarator if declarator.type == "identifier" else next(
                        (c for c in walk(declarator) if c.type == "identifier"), None)
                    if name is not None:
                        names.add(lower(name))
        return names

    def loop_at(self, line: int):
        """The outermost counted loop starting on ``line``."""
        loops = self.loops_in_lines(line, line)
        return loops[0] if loops else None

    def procedure_lines(self, name: str) -> tuple[int, int] | None:
        """First and last line of the statements of procedure ``name`` (after its header,
        before its ``end``), or None."""
        for node in walk(self.tree.root_node):
            if node.type in ("subroutine", "function") and unit_name(node) == name.lower() \
                    and (node.parent is None or node.parent.type != "interface"):
                return node.start_point[0] + 2, max(node.start_point[0] + 2,
                                                    node.end_point[0])
        return None


def _loop_above(node, first_line: int) -> bool:
    parent = node.parent
    while parent is not None:
        if _counted(parent) and parent.start_point[0] + 1 >= first_line:
            return True
        parent = parent.parent
    return False


__all__ = ["FortranSource", "parse"]
