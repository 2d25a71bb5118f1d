"""tree-sitter-fortran helpers: names as Fortran compares them (lower-cased), the
statements of a block, the parts of ``if`` and ``do`` constructs.

The grammar gives every ``x(...)`` as a ``call_expression``; whether it is an array element
or a function reference is decided by the scope (:mod:`ellora.tools.loops.fortran.scope`).
"""

from __future__ import annotations

from functools import lru_cache

UNITS = ("program", "module", "submodule", "subroutine", "function")
PROCEDURES = ("subroutine", "function")
# statements that hold other statements (their bodies are their own children)
CONSTRUCT_ENDS = ("end_do_loop_statement", "end_do_label_loop_statement", "end_if_statement",
                  "end_select_statement", "end_block_construct_statement",
                  "end_associate_statement", "end_where_statement", "end_forall_statement")
_HEADS = ("do_statement", "block_label_start_expression", "statement_label", "comment",
          "end_do_loop_statement", "end_do_label_loop_statement")
LEAVING = {"exit": "exit", "cycle": "cycle", "return": "return", "goto": "goto",
           "go": "goto", "stop": "stop"}


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter_fortran
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_fortran.language()))


def parse(source: str):
    """The tree-sitter tree of a free-form Fortran source."""
    return _parser().parse(source.encode())


def text(node) -> str:
    return node.text.decode()


def lower(node) -> str:
    """A name as Fortran compares it."""
    return node.text.decode().lower()


def spelled(node) -> str:
    """An expression's text on one line, lower-cased outside string literals."""
    raw = node.text.decode()
    if "'" not in raw and '"' not in raw:
        return " ".join(raw.replace("&", " ").split()).lower()
    pieces, quote = [], None
    for character in raw:
        if quote is None and character in "'\"":
            quote = character
        elif quote == character:
            quote = None
        pieces.append(character if quote is not None or character == quote else
                      character.lower())
    return " ".join("".join(pieces).replace("&", " ").split())


def key_of(node) -> str:
    """The spelling without blanks: equal keys are the same expression."""
    return "".join(spelled(node).split())


def walk(node):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def named(node) -> list:
    return [c for c in node.named_children if c.type != "comment"]


def strip(node):
    """The expression inside parentheses."""
    while node is not None and node.type == "parenthesized_expression":
        inner = named(node)
        if len(inner) != 1:
            return node
        node = inner[0]
    return node


def callee_and_arguments(node) -> tuple[str | None, list]:
    """(lower-cased name, argument nodes) of ``name(args)``; (None, []) otherwise."""
    if node is None or node.type != "call_expression":
        return None, []
    head = node.named_children[0] if node.named_children else None
    arguments = next((c for c in node.named_children if c.type == "argument_list"), None)
    if head is None or head.type != "identifier":
        return None, []
    return lower(head), named(arguments) if arguments is not None else []


def unit_name(unit) -> str | None:
    statement = unit.named_children[0] if unit.named_children else None
    if statement is None:
        return None
    name = statement.child_by_field_name("name")
    if name is None:
        name = next((c for c in statement.named_children if c.type == "name"), None)
    return lower(name) if name is not None else None


def enclosing_unit(node):
    """The innermost program unit (procedure, program, module) around ``node``."""
    current = node.parent
    while current is not None and current.type not in UNITS:
        current = current.parent
    return current


def loop_body(loop) -> list:
    """The statements of a ``do`` construct's body, in order."""
    return [c for c in loop.named_children if c.type not in _HEADS]


def do_statement(loop):
    return next((c for c in loop.named_children if c.type == "do_statement"), None)


def loop_label(loop) -> str | None:
    start = next((c for c in loop.named_children if c.type == "block_label_start_expression"),
                 None)
    return text(start).rstrip(":").strip().lower() if start is not None else None


def loop_kind(loop) -> str:
    """``do``, ``do concurrent``, ``do while`` or ``unbounded do``."""
    statement = do_statement(loop)
    if statement is None:
        return "do"
    kinds = {c.type for c in statement.named_children}
    if "while_statement" in kinds:
        return "do while"
    if "concurrent_statement" in kinds:
        return "do concurrent"
    if "loop_control_expression" in kinds:
        return "do"
    return "unbounded do"


def if_parts(node):
    """``(condition, [(condition or None, statements), ...], logical_if)`` of an
    ``if_statement``: the first branch, each ``else if``, then ``else`` (condition None)."""
    children = [c for c in node.named_children if c.type != "comment"]
    condition = next((c for c in children if c.type == "parenthesized_expression"), None)
    is_block = any(not c.is_named and c.type.lower() == "then" for c in node.children)
    branches, current = [], []
    for child in children:
        if child == condition or child.type == "end_if_statement":
            continue
        if child.type == "elseif_clause":
            branches.append(current)
            current = None
            clause = [c for c in child.named_children if c.type != "comment"]
            inner = next((c for c in clause if c.type == "parenthesized_expression"), None)
            branches.append((inner, [c for c in clause if c != inner]))
            continue
        if child.type == "else_clause":
            if current is not None:
                branches.append(current)
            current = None
            branches.append((None, [c for c in child.named_children if c.type != "comment"]))
            continue
        if current is None:
            current = []
        current.append(child)
    if current is not None:
        branches.append(current)
    result, first = [], True
    for branch in branches:
        if isinstance(branch, list):
            if first:
                result.append((condition, branch))
                first = False
            continue
        result.append(branch)
    if first:
        result.insert(0, (condition, []))
    return condition, result, not is_block


def leaving_kind(node) -> str | None:
    """``exit``, ``cycle``, ``return``, ``goto`` or ``stop`` for a statement that may leave an
    iteration, else None."""
    if node.type == "stop_statement":
        return "stop"
    if node.type != "keyword_statement":
        return None
    word = text(node).split()[0].lower() if text(node).split() else ""
    if word.startswith("goto"):
        return "goto"
    return LEAVING.get(word)


def exit_target(node) -> str | None:
    """The construct name an ``exit``/``cycle`` names (lower-cased), else None."""
    name = next((c for c in node.named_children if c.type == "identifier"), None)
    return lower(name) if name is not None else None
