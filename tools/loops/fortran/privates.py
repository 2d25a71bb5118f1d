"""Which scalars are an iteration's own: Fortran declares every variable at the top of the
procedure, so a temporary used in a loop body is not private by its scope as in C++. A
scalar is private to the iterations of a loop when every read of it in the body follows a
write in the same iteration on every path (it has no read *exposed* to the previous
iteration). The walk follows the structured statements: an ``if`` defines a name only when
all of its branches (with an ``else``) define it, a loop body may run zero times, and a
branch that ends in ``cycle``/``exit``/``return`` does not fall through.
"""

from __future__ import annotations

from ellora.tools.loops.fortran.syntax import (
    callee_and_arguments,
    if_parts,
    leaving_kind,
    loop_body,
    loop_kind,
    lower,
    named,
    walk,
)

_UNREACHABLE = None  # a branch that does not fall through (ends in cycle, exit, return, stop)


class ExposedReads:
    """Reads of scalars that may see a value from before the iteration; ``written`` holds
    every scalar a statement assigns (targets, inner loop variables, read items)."""

    def __init__(self, is_scalar):
        self.is_scalar = is_scalar
        self.exposed: set[str] = set()
        self.written: set[str] = set()
        self.writes: dict[str, list] = {}  # name -> assignment statements

    def run(self, statements, defined: set[str]):
        return self._block(statements, set(defined))

    def _block(self, statements, defined):
        for statement in statements:
            defined = self._statement(statement, defined)
            if defined is _UNREACHABLE:
                return _UNREACHABLE
        return defined

    def _reads(self, node, defined) -> None:
        if node is None:
            return
        for found in walk(node):
            if found.type == "identifier" and self._is_variable_read(found):
                name = lower(found)
                if self.is_scalar(name) and name not in defined:
                    self.exposed.add(name)

    @staticmethod
    def _is_variable_read(node) -> bool:
        parent = node.parent
        if parent is None:
            return True
        if parent.type == "call_expression" and parent.named_children[0] == node:
            return False  # a callee (arrays are not scalars, so elements never count here)
        if parent.type == "keyword_argument" and parent.child_by_field_name("name") == node:
            return False
        return parent.type not in ("type_member", "block_label", "statement_label_reference")

    def _define(self, name: str, defined: set[str], statement) -> set[str]:
        if self.is_scalar(name):
            self.written.add(name)
            self.writes.setdefault(name, []).append(statement)
            return defined | {name}
        return defined

    def _statement(self, node, defined):
        kind = node.type
        if kind == "assignment_statement":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            self._reads(right, defined)
            if left is not None and left.type == "identifier":
                return self._define(lower(left), defined, node)
            self._reads(left, defined)  # subscripts of an element, or the object of a member
            return defined
        if kind == "if_statement":
            return self._if(node, defined)
        if kind == "do_loop":
            return self._loop(node, defined)
        if kind == "select_case_statement":
            return self._select(node, defined)
        if kind == "block_construct":
            return self._block([c for c in named(node) if c.type != "variable_declaration"],
                               defined)
        if leaving_kind(node) in ("cycle", "exit", "return", "stop", "goto"):
            self._reads(node, defined)
            return _UNREACHABLE
        if kind == "subroutine_call":
            self._reads(node, defined)
            for argument in _call_arguments(node):
                if argument.type == "identifier":
                    defined = self._define(lower(argument), defined, node)
            return defined
        if kind == "read_statement":
            for found in walk(node):
                if found.type == "identifier" and found.parent is not None and \
                        found.parent.type == "input_item_list":
                    defined = self._define(lower(found), defined, node)
            return defined
        self._reads(node, defined)
        return defined

    def _if(self, node, defined):
        _, branches, _ = if_parts(node)
        results, has_else = [], False
        for condition, statements in branches:
            if condition is None:
                has_else = True
            else:
                self._reads(condition, defined)
            results.append(self._block(statements, set(defined)))
        if not has_else:
            results.append(defined)
        return _meet(results)

    def _loop(self, node, defined):
        from ellora.tools.loops.cpp.header import NotCounted
        from ellora.tools.loops.fortran.header import do_header

        variables = set()
        if loop_kind(node) in ("do", "do concurrent"):
            try:
                header = do_header(node)
            except NotCounted:
                header = None
            for control in header.controls if header is not None else []:
                for part in (control.start, control.end, control.step):
                    self._reads(part, defined)
                variables.add(control.var)
                defined = self._define(control.var, defined, node)
            if header is not None and header.mask is not None:
                self._reads(header.mask, defined)
        else:
            statement = node.named_children[0] if node.named_children else None
            self._reads(statement, defined)
        inside = self._block(loop_body(node), set(defined))
        del inside  # the body may run zero times: it defines nothing after the loop
        return defined

    def _select(self, node, defined):
        selector = next((c for c in node.named_children if c.type == "selector"), None)
        self._reads(selector, defined)
        results, has_default = [], False
        for case in node.named_children:
            if case.type != "case_statement":
                continue
            if any(c.type == "default" for c in case.named_children):
                has_default = True
            statements = [c for c in named(case) if c.type not in ("case_value_range_list",
                                                                   "default")]
            results.append(self._block(statements, set(defined)))
        if not has_default:
            results.append(defined)
        return _meet(results)


def _meet(results):
    reachable = [r for r in results if r is not _UNREACHABLE]
    if not reachable:
        return _UNREACHABLE
    merged = set(reachable[0])
    for result in reachable[1:]:
        merged &= result
    return merged


def _call_arguments(node) -> list:
    arguments = next((c for c in node.named_children if c.type == "argument_list"), None)
    found = []
    for argument in named(arguments) if arguments is not None else []:
        if argument.type == "keyword_argument":
            argument = argument.child_by_field_name("value")
        found.append(argument)
    return found


def private_scalars(loop, statements, is_scalar, loop_vars: set[str]) -> tuple[set, set, dict]:
    """(scalars written in the body with no exposed read, every scalar written, the
    assignments of each) for one iteration of ``loop``."""
    analysis = ExposedReads(is_scalar)
    analysis.run(statements, set(loop_vars))
    written = analysis.written - loop_vars
    return written - analysis.exposed, written, analysis.writes


__all__ = ["ExposedReads", "callee_and_arguments", "private_scalars"]
