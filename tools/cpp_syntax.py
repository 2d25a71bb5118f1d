"""Tree-sitter access to C/C++ sources: parse once, find loops and functions by line."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter_cpp
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_cpp.language()))


def parse_cpp(source: str):
    """The tree-sitter tree of ``source`` (C++ grammar, which also reads plain C)."""
    return _parser().parse(source.encode())


def text(node) -> str:
    return node.text.decode()


def normalized(node) -> str:
    return "".join(text(node).split())


def walk(node):
    """Every node under ``node`` (itself included), depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def enclosing(node, type_name: str):
    current = node.parent
    while current is not None and current.type != type_name:
        current = current.parent
    return current


def loops_in_lines(tree, first_line: int, last_line: int) -> list:
    """Outermost ``for`` loops that start inside the 1-based line range."""
    found = []
    for node in walk(tree.root_node):
        if node.type != "for_statement":
            continue
        start = node.start_point[0] + 1
        if first_line <= start <= last_line and not _has_loop_ancestor_in(node, first_line):
            found.append(node)
    return found


def _has_loop_ancestor_in(node, first_line: int) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "for_statement" and parent.start_point[0] + 1 >= first_line:
            return True
        parent = parent.parent
    return False


def function_names(tree) -> list[str]:
    names = []
    for node in walk(tree.root_node):
        if node.type == "function_declarator":
            declarator = node.child_by_field_name("declarator")
            if declarator is not None:
                names.append(text(declarator))
    return names


def has_errors(tree) -> bool:
    return tree.root_node.has_error


def omp_pragma_before(loop):
    """The ``#pragma omp ...`` line directly before a loop, or None."""
    previous = loop.prev_named_sibling
    if (
        previous is not None
        and previous.type == "preproc_call"
        and text(previous).split()[:2] == ["#pragma", "omp"]
    ):
        return previous
    return None


def subscript_parts(node) -> tuple[str | None, str]:
    indices = []
    current = node
    while current.type == "subscript_expression":
        argument = current.child_by_field_name("indices") or current.child(1)
        inner = [normalized(c) for c in argument.children if c.type not in ("[", "]")]
        indices.append("".join(inner) if inner else normalized(argument))
        current = current.child_by_field_name("argument") or current.child(0)
    if current.type != "identifier":
        return None, ""
    return text(current), "][".join(reversed(indices))


def loop_header(loop) -> tuple[str, str, str, object, object]:
    """(variable, its declared type or "", initial value text, condition node, update node)
    of a ``for`` statement; ValueError saying what it lacks."""
    init = loop.child_by_field_name("initializer")
    condition = loop.child_by_field_name("condition")
    update = loop.child_by_field_name("update")
    if init is None or condition is None or update is None:
        raise ValueError("it needs an initializer, a condition and an update")
    if init.type == "declaration":
        declarators = [c for c in init.children if c.type == "init_declarator"]
        if len(declarators) != 1:
            raise ValueError("declare exactly one loop variable")
        return (text(declarators[0].child_by_field_name("declarator")),
                text(init.child_by_field_name("type")),
                text(declarators[0].child_by_field_name("value")), condition, update)
    if init.type == "assignment_expression":
        return (text(init.child_by_field_name("left")), "",
                text(init.child_by_field_name("right")), condition, update)
    raise ValueError("the initializer must set the loop variable")


def write_target(node):
    """The assigned expression of an assignment or ``++``/``--``, else None."""
    if node.type == "assignment_expression":
        return node.child_by_field_name("left")
    if node.type == "update_expression":
        return node.child_by_field_name("argument")
    return None


_INCLUDE_LINE = re.compile(r"^#\s*include[^\n]*\n", re.MULTILINE)


def after_includes(source: str, code: str) -> str:
    """The source with ``code`` inserted after its last ``#include`` line (at the top
    without one)."""
    includes = list(_INCLUDE_LINE.finditer(source))
    position = includes[-1].end() if includes else 0
    return source[:position] + code + source[position:]


def ensure_include(source: str, header: str) -> str:
    """The source with ``#include <header>`` after its includes, unless it has it."""
    if re.search(rf"#\s*include\s*[<\"]{re.escape(header)}[>\"]", source):
        return source
    return after_includes(source, f"#include <{header}>\n")
