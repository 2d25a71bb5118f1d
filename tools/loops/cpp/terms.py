"""C/C++ expressions as :class:`~ellora.tools.loops.terms.Term` trees."""

from __future__ import annotations

import re

from ellora.tools.loops.cpp.scope import text
from ellora.tools.loops.terms import Term

_LITERALS = ("number_literal", "char_literal", "string_literal", "true", "false", "null",
             "nullptr", "raw_string_literal", "concatenated_string")


def _bare(node):
    while node is not None and node.type in ("parenthesized_expression", "condition_clause"):
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1:
            return inner[-1] if inner else node
        node = inner[0]
    return node


def term_of(node) -> Term | None:
    """The term of an expression node (parentheses removed); None for no node."""
    node = _bare(node)
    if node is None:
        return None
    kind = node.type
    spelled = " ".join(text(node).split())
    span = (node.start_byte, node.end_byte)

    def make(kind_name: str, op: str = "", args=()) -> Term:
        return Term(kind_name, op, tuple(a for a in args if a is not None), spelled, span, node)

    if kind in ("identifier", "field_identifier"):
        return make("name", text(node))
    if kind in _LITERALS:
        return make("const", spelled)
    if kind == "binary_expression":
        return make("binary", text(node.child(1)), (term_of(node.child_by_field_name("left")),
                                                   term_of(node.child_by_field_name("right"))))
    if kind == "unary_expression":
        return make("unary", text(node.child(0)), (term_of(node.child_by_field_name("argument")),))
    if kind == "call_expression":
        function = node.child_by_field_name("function")
        name = re.sub(r"<.*?>(?=::|$)", "", "".join(text(function).split()))
        name = re.sub(r"<.*>", "", name)
        arguments = node.child_by_field_name("arguments")
        args = [term_of(a) for a in arguments.named_children if a.type != "comment"] \
            if arguments is not None else []
        if function is not None and function.type == "field_expression":
            args.insert(0, term_of(function.child_by_field_name("argument")))
        return make("call", name, args)
    if kind == "subscript_expression":  # a[i][j]: op is the array, args the subscripts
        indices, base = [], node
        while base is not None and base.type == "subscript_expression":
            argument = base.child_by_field_name("indices") or base.child(1)
            inner = [c for c in argument.named_children if c.type != "comment"] \
                if argument is not None else []
            indices[:0] = [term_of(c) for c in inner]
            base = _bare(base.child_by_field_name("argument"))
        extra = [] if base is None or base.type == "identifier" else [term_of(base)]
        return make("load", " ".join(text(base).split()) if base is not None else "?",
                    [*extra, *indices])
    if kind == "field_expression":
        return make("member", text(node.child_by_field_name("field")),
                    (term_of(node.child_by_field_name("argument")),))
    if kind == "conditional_expression":
        return make("select", "?:", (term_of(node.child_by_field_name("condition")),
                                     term_of(node.child_by_field_name("consequence")),
                                     term_of(node.child_by_field_name("alternative"))))
    if kind == "assignment_expression":
        return make("other", "assign", [term_of(c) for c in node.named_children])
    if kind == "update_expression":
        return make("other", "update", [term_of(c) for c in node.named_children])
    if kind == "cast_expression":
        return make("other", "cast", (term_of(node.child_by_field_name("value")),))
    return make("other", kind, [term_of(c) for c in node.named_children
                                if c.type not in ("comment", "type_descriptor",
                                                  "primitive_type")])
