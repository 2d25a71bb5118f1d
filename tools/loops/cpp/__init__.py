"""The C/C++ front end: tree-sitter trees to loop models."""

from __future__ import annotations

import re
from functools import lru_cache

from ellora.tools.loops.cpp.scope import (
    FileScope,
    function_name,
    read_file_scope,
    read_function_scope,
    text,
    walk,
)
from ellora.tools.loops.model import FunctionContext, LoopModel

__all__ = ["LOOP_TYPES", "CppSource", "parse", "text", "walk"]

LOOP_TYPES = ("for_statement", "for_range_loop")


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter_cpp
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_cpp.language()))


# GCC's restricted references (``std::vector<double>& __restrict__ y``) are outside the
# grammar: the qualifier is read as a comment of the same length (byte offsets unchanged),
# which ``cxx_types`` takes back as the reference's ``restrict``.
_RESTRICTED_REFERENCE = re.compile(r"(?<=&)(\s*)(__restrict__|__restrict)\b")
RESTRICT_MARK = re.compile(r"/\*@+\*/")


def _restrict_as_mark(match: re.Match) -> str:
    return match.group(1) + "/*" + "@" * (len(match.group(2)) - 4) + "*/"


def parse(source: str):
    """The tree-sitter tree of ``source`` (the C++ grammar also reads plain C)."""
    if "__restrict" in source:
        source = _RESTRICTED_REFERENCE.sub(_restrict_as_mark, source)
    return _parser().parse(source.encode())


class CppSource:
    """One parsed C/C++ file: its tree, file scope and the context of each function."""

    def __init__(self, source: str, tree=None, c_source: bool = False):
        self.source = source
        self.c_source = c_source
        self.tree = tree if tree is not None else parse(source)
        self.file_scope: FileScope = read_file_scope(self.tree.root_node)
        self._contexts: dict[int, FunctionContext] = {}

    def context_for(self, node) -> FunctionContext:
        definition = node
        while definition is not None and definition.type != "function_definition":
            definition = definition.parent
        if definition is None:
            definition = self.tree.root_node
        key = definition.start_byte
        if key not in self._contexts:
            scope = read_function_scope(definition, self.file_scope)
            name = function_name(definition) if definition.type == "function_definition" \
                else None
            self._contexts[key] = FunctionContext(self.source, "cpp", definition, scope,
                                                  name=name or "loop", c_source=self.c_source)
        return self._contexts[key]

    def loop_model(self, loop) -> LoopModel:
        """The model of a loop node; NotCounted when its header is not a counted loop."""
        from ellora.tools.loops.cpp.build import build_model

        return build_model(loop, self.context_for(loop))

    def loops_in_lines(self, first_line: int, last_line: int) -> list:
        """Outermost ``for`` loops (plain or range-based) starting inside the line range."""
        found = []
        for node in walk(self.tree.root_node):
            if node.type not in LOOP_TYPES:
                continue
            start = node.start_point[0] + 1
            if first_line <= start <= last_line and not _loop_above(node, first_line):
                found.append(node)
        return found

    def direct_inner_loops(self, loop) -> list:
        """The loops right inside ``loop``'s body (not inside another loop there)."""
        found, stack = [], list(reversed(loop.child_by_field_name("body").children))
        while stack:
            node = stack.pop()
            if node.type in LOOP_TYPES:
                found.append(node)
                continue
            stack.extend(reversed(node.children))
        return found

    def uncounted_loops(self, first_line: int, last_line: int) -> list:
        """``while`` and ``do`` loops starting in the lines and not inside a loop that
        starts there (those are planned with their loop)."""
        found = []
        for node in walk(self.tree.root_node):
            if node.type not in ("while_statement", "do_statement"):
                continue
            if not first_line <= node.start_point[0] + 1 <= last_line:
                continue
            parent, inside = node.parent, False
            while parent is not None:
                if parent.type in (*LOOP_TYPES, "while_statement", "do_statement") and \
                        parent.start_point[0] + 1 >= first_line:
                    inside = True
                    break
                parent = parent.parent
            if not inside:
                found.append(node)
        return found

    @staticmethod
    def loop_kind(loop) -> str:
        return loop.type.split("_")[0]

    @staticmethod
    def assigned_names(node) -> set[str]:
        from ellora.tools.loops.cpp.build import _assigned_names

        return _assigned_names(node)

    @staticmethod
    def declared_names(node) -> set[str]:
        return {n.child_by_field_name("declarator").text.decode() for n in walk(node)
                if n.type == "init_declarator" and n.child_by_field_name("declarator")
                is not None}

    def loop_at(self, line: int):
        """The outermost loop starting on ``line`` (after edits, the same loop again)."""
        loops = self.loops_in_lines(line, line)
        return loops[0] if loops else None


def _loop_above(node, first_line: int) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in LOOP_TYPES and parent.start_point[0] + 1 >= first_line:
            return True
        parent = parent.parent
    return False
