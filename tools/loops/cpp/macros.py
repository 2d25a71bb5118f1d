"""Macros a file defines that compute a value from their arguments, read as what they
expand to: ``#define IDX(i, j, n) ((i) * (n) + (j))`` makes ``a[IDX(i, j, n)]`` the
subscript ``i * n + j``. Only arithmetic macros are expanded: their body is ``+ - *`` and
parentheses over their parameters, integers and the file's constant macros, so what such a
macro reads is exactly its arguments (the body walk visits them at the call) and its value
is a polynomial of theirs. Any other macro stays a call of unknown effect."""

from __future__ import annotations

from dataclasses import dataclass

from ellora.tools.loops.cpp.scope import text, walk

_ALLOWED = ("parenthesized_expression", "binary_expression", "unary_expression",
            "identifier", "number_literal", "+", "-", "*", "(", ")")


@dataclass(frozen=True)
class Macro:
    name: str
    parameters: tuple[str, ...]
    body: str



def read_macros(root) -> dict[str, Macro]:
    """The arithmetic function-like macros of a file, by name."""
    constants = {text(n.child_by_field_name("name")) for n in walk(root)
                 if n.type == "preproc_def" and n.child_by_field_name("name") is not None}
    found: dict[str, Macro] = {}
    for node in walk(root):
        if node.type != "preproc_function_def":
            continue
        name, parameters = node.child_by_field_name("name"), node.child_by_field_name(
            "parameters")
        value = node.child_by_field_name("value")
        if name is None or parameters is None or value is None:
            continue
        names = tuple(text(p) for p in parameters.named_children if p.type == "identifier")
        body = " ".join(text(value).replace("\\\n", " ").split())
        if _arithmetic(body, set(names) | constants):
            found[text(name)] = Macro(text(name), names, body)
    return found


def expression_of(macro: Macro):
    """The tree-sitter node of the macro's body, parsed as an expression."""
    return _parsed(macro.body)


_PARSED: dict[str, object] = {}


def _parsed(expression: str):
    if expression not in _PARSED:
        from ellora.tools.loops.cpp import parse

        tree = parse(f"void ellora_macro() {{ ({expression}); }}")
        node = next((n for n in walk(tree.root_node) if n.type == "expression_statement"),
                    None)
        _PARSED[expression] = None if node is None or tree.root_node.has_error else \
            node.named_children[0] if node.named_children else None
    return _PARSED[expression]


def _arithmetic(body: str, allowed: set[str]) -> bool:
    node = _parsed(body)
    if node is None:
        return False
    for found in walk(node):
        if found.type not in _ALLOWED:
            return False
        if found.type == "identifier" and text(found) not in allowed:
            return False
        if found.type == "number_literal" and not text(found).isdigit():
            return False
    return True
