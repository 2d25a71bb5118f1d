"""Induction variables: integers that step by a constant once per iteration, read as closed
forms of the loop variable.

``for (int i = 0, j = n - 1; i < n; ++i, --j) out[i] = in[j];``,
``int k = 0; for (...) { out[k++] = ...; }`` and ``for (...) { y[i] = x[j]; j += 2; }``
carry ``j`` (``k``) from one iteration to the next, but its value at the top of iteration m
is ``j0 + c * m``: nothing is carried. This pass rewrites such a loop so that each iteration
computes its own copy from the loop variable (a constant local shadowing the variable), the
steps are removed, and a variable that lives after the loop gets its final value after it.
The rest of the engine then sees ordinary affine subscripts. The rewrite keeps every line
where it was, and is kept only when the loop it gives can run in parallel.

A ``while`` loop that counts (``while (i < n) { ...; ++i; }``: the condition compares an
integer with a bound the loop does not change, the body's last statement steps it by a
literal, nothing else writes it, no ``continue`` or ``break``) is the ``for`` loop
``for (i = i0; i < n; ++i) { ... }`` and is rewritten as one, under the same rule.

A variable qualifies when: it is an integer, every write to it in the loop is a step by an
integer literal (``++``, ``--``, ``+=``, ``-=``) in the header's update or in a statement
of the body's top level that always runs (no ``continue``, ``break`` or ``goto`` in the
loop), no read of it follows a step in the body, and its address is never taken nor is it
passed to a function. The loop variable counts up or down by a literal step from a start
that the loop does not change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ellora.tools.loops.cpp.scope import text, walk

_PREFIX = "ellora_"
_INTEGER = re.compile(r"^(?:const\s+)?(?:(?:unsigned|signed|long|short|int|char)\s*)+$|"
                      r"^(?:const\s+)?(?:std::)?(?:u?int(?:8|16|32|64)_t|size_t|ptrdiff_t|"
                      r"ssize_t|intptr_t|uintptr_t)$")


@dataclass
class _Step:
    node: object  # the update_expression / assignment_expression
    amount: int
    statement: object | None  # the body statement that is only this step (removed), or None
    in_header: bool = False


@dataclass
class _Induction:
    name: str
    steps: list[_Step] = field(default_factory=list)
    declared_in_header: object | None = None  # the init_declarator in the for's initializer
    outer_type: str = ""  # the declared type of a variable declared before the loop

    @property
    def per_iteration(self) -> int:
        return sum(step.amount for step in self.steps)


@dataclass
class _Primary:
    name: str
    start: str  # text of the start value
    step: int
    type_text: str


def substitute_inductions(source: str, first_line: int, last_line: int,
                          keep=lambda rewritten, line: True) -> str:
    """``source`` with the induction variables of the ``for`` loops starting in the lines
    replaced by closed forms, for each loop where ``keep(rewritten_source, loop_line)``
    holds (the caller checks that the loop became parallel); lines stay where they were."""
    from ellora.tools.loops.cpp import parse

    done: set[int] = set()
    for _ in range(64):  # each pass rewrites one loop and parses again
        tree = parse(source)
        for loop in walk(tree.root_node):
            line = loop.start_point[0] + 1
            if loop.type not in ("for_statement", "while_statement") or line in done or \
                    not first_line <= line <= last_line:
                continue
            done.add(line)
            rewritten = _rewrite(source, loop) or _outer_counter(source, loop, False) \
                if loop.type == "for_statement" else _counted_while(source, loop)
            if rewritten is not None and keep(rewritten, line):
                source = rewritten
                break
        else:
            return source
    return source


def _rewrite(source: str, loop) -> str | None:
    primary = _primary(loop)
    if primary is None or _has_jumps(loop):
        return None
    inductions = [induction for induction in _inductions(loop, primary)
                  if induction.per_iteration % primary.step == 0]  # an integer per step
    if not inductions:
        return None
    edits: list[tuple[int, int, str]] = []  # (start byte, end byte, replacement)
    taken = set(re.findall(r"\b\w+\b", source))
    before, after = [], []
    body = loop.child_by_field_name("body")
    declarations = []
    start_name = _fresh(f"{_PREFIX}{primary.name}0", taken)
    before.append(f"const {primary.type_text} {start_name} = {primary.start};")
    offset = f"({primary.name} - {start_name})"  # step * (the iteration's number)
    for induction in inductions:
        start = _fresh(f"{_PREFIX}{induction.name}0", taken)
        if induction.declared_in_header is not None:
            value = induction.declared_in_header.child_by_field_name("value")
            before.append(f"const {primary.type_text} {start} = {text(value)};")
            edits.append(_declarator_removal(induction.declared_in_header))
        else:
            before.append(f"const {induction.outer_type} {start} = {induction.name};")
            after.append(f"{induction.name} = {_closed(start, induction.per_iteration, _trip(loop, primary, start_name))};")
        declared_type = primary.type_text if induction.declared_in_header is not None \
            else induction.outer_type
        declarations.append(f"const {declared_type} {induction.name} = "
                            f"{_closed(start, induction.per_iteration // primary.step, offset)};")
        for step in induction.steps:
            if step.in_header:
                edits.append(_update_removal(step.node))
            elif step.statement is not None:
                edits.append((step.statement.start_byte, step.statement.end_byte, ""))
            else:  # k++ inside an expression: its value is k
                edits.append((step.node.start_byte, step.node.end_byte, induction.name))
    if body.type == "compound_statement":
        edits.append((body.start_byte + 1, body.start_byte + 1, " " + " ".join(declarations)))
    else:
        edits.append((body.start_byte, body.start_byte, "{ " + " ".join(declarations) + " "))
        edits.append((body.end_byte, body.end_byte, " }"))
    edits.append((loop.start_byte, loop.start_byte, "{ " + " ".join(before) + " "))
    edits.append((loop.end_byte, loop.end_byte, " " + " ".join(after) + " }"))
    data = source.encode()
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        data = data[:start] + replacement.encode() + data[end:]
    return data.decode()


def _counted_while(source: str, loop) -> str | None:
    """``while (i < n) { body; ++i; }`` as ``for (i = i0; i < n; ++i) { body }`` (None when
    the loop does not count that way)."""
    condition = loop.child_by_field_name("condition")
    body = loop.child_by_field_name("body")
    name = _compared_name(condition) if condition is not None else None
    if name is None or body is None or body.type != "compound_statement" or \
            _has_jumps(loop):
        return None
    statements = [c for c in body.named_children if c.type != "comment"]
    last = statements[-1] if statements else None
    if last is None or last.type != "expression_statement" or not last.named_children:
        return None
    step = _step_of(last.named_children[0])
    if step is None or step[0] != name or step[1] == 0:
        return None
    operator, bound = _comparison(condition, name)
    written = _written_names(loop) - {name}
    if operator not in ("<", "<=", ">", ">=") or \
            (step[1] > 0) != (operator in ("<", "<=")) or \
            set(re.findall(r"\b[A-Za-z_]\w*\b", bound)) & (written | {name}) or \
            not _outer_integer_type(loop, name):
        return None
    for node in walk(body):  # the step is the only write of the counter
        target = None
        if node.type == "assignment_expression":
            target = node.child_by_field_name("left")
        elif node.type == "update_expression":
            target = node.child_by_field_name("argument")
        if target is not None and text(target) == name and \
                node != last.named_children[0]:
            return None
        if node.type == "identifier" and text(node) == name and node.parent is not None and (
                node.parent.type == "argument_list" or (
                    node.parent.type == "pointer_expression" and
                    text(node.parent).startswith("&"))):
            return None
    taken = set(re.findall(r"\b\w+\b", source))
    start = _fresh(f"{_PREFIX}{name}0", taken)
    keyword = loop.child(0)
    edits = [(last.start_byte, last.end_byte, ""),
             (keyword.start_byte, condition.end_byte,
              (f"for ({name} = {start}; {text(condition).strip()[1:-1].strip()}; "
               f"{text(last.named_children[0])})")),
             (loop.start_byte, loop.start_byte, f"{{ const auto {start} = {name}; "),
             (loop.end_byte, loop.end_byte, " }")]
    data = source.encode()
    for begin, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        data = data[:begin] + replacement.encode() + data[end:]
    from ellora.tools.loops.cpp import parse

    as_for = data.decode()
    line = loop.start_point[0]
    for node in walk(parse(as_for).root_node):
        if node.type == "for_statement" and node.start_point[0] == line:
            return _outer_counter(as_for, node, True)
    return None


def _outer_counter(source: str, loop, always: bool) -> str | None:
    """``for (i = L; i < U; ++i)`` over a local ``i`` the function reads after the loop
    (``always``: whether or not it does) as ``for (T i = L; ...)`` followed by the value the
    loop leaves in ``i``: every target then runs the loop on its own counter, and ``i``
    is right after it. None when it is not such a loop."""
    initializer = loop.child_by_field_name("initializer")
    if initializer is None or initializer.type != "assignment_expression" or \
            text(initializer.child(1)) != "=":
        return None
    target = initializer.child_by_field_name("left")
    condition = loop.child_by_field_name("condition")
    update = loop.child_by_field_name("update")
    if target is None or target.type != "identifier" or condition is None or update is None:
        return None
    name = text(target)
    type_text = _outer_integer_type(loop, name)
    steps = _update_steps(update)
    if not type_text or len(steps) != 1 or steps[0][0] != name or steps[0][1] == 0 or \
            _compared_name(condition) != name or _escapes(loop, name):
        return None
    operator, bound = _comparison(condition, name)
    written = _written_names(loop)
    start_text = text(initializer.child_by_field_name("right"))
    if operator not in ("<", "<=", ">", ">=") or (steps[0][1] > 0) != (operator in ("<", "<=")) \
            or set(re.findall(r"\b[A-Za-z_]\w*\b", bound + " " + start_text)) & written - {name} \
            or name in re.findall(r"\b\w+\b", bound + " " + start_text):
        return None
    if not always and not _read_after(loop, name):
        return None
    taken = set(re.findall(r"\b\w+\b", source))
    start = _fresh(f"{_PREFIX}{name}0", taken)
    primary = _Primary(name, start_text, steps[0][1], type_text)
    final = _closed(start, steps[0][1], _trip(loop, primary, start))
    edits = [(initializer.start_byte, initializer.end_byte, f"{type_text} {name} = {start}"),
             (loop.start_byte, loop.start_byte, f"{{ const {type_text} {start} = {start_text}; "),
             (loop.end_byte, loop.end_byte, f" {name} = {final}; }}")]
    data = source.encode()
    for begin, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        data = data[:begin] + replacement.encode() + data[end:]
    return data.decode()


def _function_of(node):
    while node is not None and node.type != "function_definition":
        node = node.parent
    return node


def _escapes(loop, name: str) -> bool:
    """``&name`` in the function, or a lambda there that uses it: something may read or
    change it other than by name."""
    function = _function_of(loop)
    if function is None:
        return True
    for node in walk(function):
        if node.type == "pointer_expression" and text(node).startswith("&") and \
                re.fullmatch(rf"&\s*{re.escape(name)}", text(node)):
            return True
        if node.type == "lambda_expression" and \
                name in re.findall(r"\b\w+\b", text(node)):
            return True
    return False


def _read_after(loop, name: str) -> bool:
    function = _function_of(loop)
    return function is not None and any(
        n.type == "identifier" and text(n) == name and n.start_byte >= loop.end_byte
        for n in walk(function))


def _closed(start: str, per_iteration: int, iterations: str) -> str:
    sign = "+" if per_iteration >= 0 else "-"
    times = "" if abs(per_iteration) == 1 else f"{abs(per_iteration)} * "
    return f"{start} {sign} {times}{iterations}"


def _trip(loop, primary: _Primary, start_name: str) -> str:
    """The iterations the loop ran, written after it (the loop variable is gone)."""
    condition = loop.child_by_field_name("condition")
    operator, bound = _comparison(condition, primary.name)
    step = abs(primary.step)
    if primary.step > 0:
        span = f"({bound}) - {start_name}" + (" + 1" if operator == "<=" else "")
        above = f"({bound}) {'>=' if operator == '<=' else '>'} {start_name}"
    else:
        span = f"{start_name} - ({bound})" + (" + 1" if operator == ">=" else "")
        above = f"{start_name} {'>=' if operator == '>=' else '>'} ({bound})"
    count = f"({span} + {step - 1}) / {step}" if step != 1 else f"({span})"
    return f"({above} ? {count} : 0)"


def _bare(condition):
    """The expression inside a condition clause and any parentheses around it."""
    node = condition
    while node is not None and node.type in ("condition_clause", "parenthesized_expression"):
        node = node.named_children[0] if node.named_children else None
    return node


def _comparison(condition, name: str) -> tuple[str, str]:
    node = _bare(condition)
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    operator = text(node.child(1))
    if text(left).strip() == name:
        return operator, text(right)
    flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "!=": "!="}[operator]
    return flipped, text(left)


def _fresh(name: str, taken: set[str]) -> str:
    candidate, k = name, 1
    while candidate in taken:
        candidate, k = f"{name}_{k}", k + 1
    taken.add(candidate)
    return candidate


def _primary(loop) -> _Primary | None:
    """The loop variable: declared in the initializer, compared in the condition, stepped
    by a literal in the update; its start mentions nothing the loop writes, and no call."""
    initializer = loop.child_by_field_name("initializer")
    condition = loop.child_by_field_name("condition")
    update = loop.child_by_field_name("update")
    if initializer is None or initializer.type != "declaration" or condition is None or \
            update is None:
        return None
    type_node = initializer.child_by_field_name("type")
    declarators = [c for c in initializer.named_children if c.type == "init_declarator"]
    if type_node is None or not declarators:
        return None
    type_text = " ".join(text(type_node).split())
    if not _INTEGER.match(type_text):
        return None
    compared = _compared_name(condition)
    first = declarators[0]
    name_node = first.child_by_field_name("declarator")
    if name_node is None or name_node.type != "identifier" or text(name_node) != compared:
        return None
    steps = [s for s in _update_steps(update) if s[0] == compared]
    if len(steps) != 1 or steps[0][1] == 0:
        return None
    start = first.child_by_field_name("value")
    written = _written_names(loop)
    start_text = text(start)
    if any(n.type == "call_expression" for n in walk(start)) or \
            set(re.findall(r"\b[A-Za-z_]\w*\b", start_text)) & written:
        return None
    operator, bound = _comparison(condition, compared)
    if operator not in ("<", "<=", ">", ">=") or \
            set(re.findall(r"\b[A-Za-z_]\w*\b", bound)) & (written | {compared}):
        return None
    if (steps[0][1] > 0) != (operator in ("<", "<=")):
        return None
    return _Primary(compared, start_text, steps[0][1], type_text)


def _compared_name(condition) -> str | None:
    node = _bare(condition)
    if node is None or node.type != "binary_expression":
        return None
    for side in ("left", "right"):
        operand = node.child_by_field_name(side)
        if operand is not None and operand.type == "identifier":
            return text(operand)
    return None


def _update_steps(update) -> list[tuple[str, int, object]]:
    """(name, amount, node) of each step in a header update (``++i, j += 2``)."""
    parts = []
    stack = [update]
    while stack:
        node = stack.pop()
        if node.type == "comma_expression":
            stack.extend(reversed(node.named_children))
        else:
            parts.append(node)
    steps = []
    for node in parts:
        step = _step_of(node)
        if step is None:
            return []
        steps.append((*step, node))
    return steps


def _step_of(node) -> tuple[str, int] | None:
    """(name, amount) when ``node`` is ``++v``, ``v--``, ``v += 3``, ``v -= 1``."""
    if node.type == "update_expression":
        argument = node.child_by_field_name("argument")
        if argument is None or argument.type != "identifier":
            return None
        return text(argument), 1 if "++" in text(node) else -1
    if node.type == "assignment_expression":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        operator = text(node.child(1))
        if left is None or left.type != "identifier" or operator not in ("+=", "-=") or \
                right is None or right.type != "number_literal" or \
                not re.fullmatch(r"\d+[uUlL]*", text(right)):
            return None
        amount = int(re.sub(r"[uUlL]", "", text(right)))
        return text(left), amount if operator == "+=" else -amount
    return None


def _written_names(loop) -> set[str]:
    from ellora.tools.loops.cpp.facts import _assigned_names

    return _assigned_names(loop)


def _has_jumps(loop) -> bool:
    """``continue``, ``break`` or ``goto`` that leaves or skips part of this loop's body."""
    body = loop.child_by_field_name("body")
    for node in walk(body):
        if node.type == "goto_statement":
            return True
        if node.type in ("continue_statement", "break_statement"):
            owner = node.parent
            while owner is not None and owner.type not in (
                    "for_statement", "for_range_loop", "while_statement", "do_statement",
                    "switch_statement"):
                owner = owner.parent
            if owner == loop or (owner is not None and owner.type == "switch_statement" and
                                 node.type == "continue_statement"):
                return True
    return False


def _inductions(loop, primary: _Primary) -> list[_Induction]:
    body = loop.child_by_field_name("body")
    update = loop.child_by_field_name("update")
    initializer = loop.child_by_field_name("initializer")
    found: dict[str, _Induction] = {}
    for name, amount, node in _update_steps(update):
        if name == primary.name:
            continue
        found.setdefault(name, _Induction(name)).steps.append(
            _Step(node, amount, None, in_header=True))
    top = body.named_children if body.type == "compound_statement" else [body]
    for statement in top:
        if statement.type != "expression_statement":
            continue
        for node in walk(statement):
            step = _step_of(node)
            if step is None or step[0] == primary.name:
                continue
            whole = statement.named_children and statement.named_children[0] == node
            if not whole and not (node.type == "update_expression" and
                                  text(node).endswith(("++", "--"))):
                continue  # ++k inside an expression reads the new value: not rewritten
            found.setdefault(step[0], _Induction(step[0])).steps.append(
                _Step(node, step[1], statement if whole else None))
    declared = {}
    for declarator in initializer.named_children[1:] if initializer is not None else []:
        if declarator.type == "init_declarator":
            name_node = declarator.child_by_field_name("declarator")
            if name_node is not None and name_node.type == "identifier":
                declared[text(name_node)] = declarator
    result = []
    for name, induction in found.items():
        if name in declared:
            induction.declared_in_header = declared[name]
        else:
            induction.outer_type = _outer_integer_type(loop, name)
            if not induction.outer_type:
                continue
        if _qualifies(loop, induction, primary.name):
            result.append(induction)
    return result


def _outer_integer_type(loop, name: str) -> str:
    """The integer type ``name`` was declared with before the loop in the same function
    (a local or a by-value parameter), or "" when it is not one."""
    function = loop.parent
    while function is not None and function.type != "function_definition":
        function = function.parent
    if function is None:
        return ""
    found = ""
    for node in walk(function):
        if node.start_byte >= loop.start_byte:
            break
        if node.type in ("declaration", "parameter_declaration"):
            type_node = node.child_by_field_name("type")
            for declarator in node.named_children:
                target = declarator.child_by_field_name("declarator") \
                    if declarator.type == "init_declarator" else declarator
                if target is not None and target.type == "identifier" and \
                        text(target) == name and type_node is not None:
                    spelled = " ".join(text(type_node).split())
                    found = spelled if _INTEGER.match(spelled) and \
                        not spelled.startswith("const") else ""
    return found


def _qualifies(loop, induction: _Induction, primary: str) -> bool:
    """Every write is one of its steps, only the body reads it and never after a body step,
    nothing takes its address or hands it to a function."""
    body = loop.child_by_field_name("body")
    steps = {(step.node.start_byte, step.node.end_byte) for step in induction.steps}
    step_nodes = [step.node for step in induction.steps if not step.in_header]
    first_step_end = min((node.end_byte for node in step_nodes), default=None)
    in_expression = [_top_statement(step.node, body) for step in induction.steps
                     if not step.in_header and step.statement is None]
    for node in walk(loop):
        if node.type != "identifier" or text(node) != induction.name:
            continue
        parent = node.parent
        if parent is not None and parent.type in ("update_expression", "assignment_expression") \
                and (parent.type == "update_expression" or
                     parent.child_by_field_name("left") == node):
            if (parent.start_byte, parent.end_byte) not in steps:
                return False  # another write
            continue
        if parent is not None and parent.type == "init_declarator" and \
                parent.child_by_field_name("declarator") == node:
            continue
        if parent is not None and (parent.type == "argument_list" or (
                parent.type == "pointer_expression" and text(parent).startswith("&"))):
            return False
        if not _inside(node, body):
            return False  # read by the header, which the rewritten body does not reach
        if any(_inside(node, statement) for statement in in_expression):
            return False  # k read beside k++ in one statement: the order is the compiler's
        if first_step_end is not None and node.start_byte >= first_step_end:
            return False  # read after a step: it would need the stepped value
    if induction.declared_in_header is not None:
        value = induction.declared_in_header.child_by_field_name("value")
        if value is None or any(n.type == "call_expression" for n in walk(value)) or \
                set(re.findall(r"\b[A-Za-z_]\w*\b", text(value))) & (
                    _written_names(loop) | {primary}):
            return False  # its start moves before the loop: it must not need the loop
    return True


def _top_statement(node, body):
    while node.parent is not None and node.parent != body:
        node = node.parent
    return node


def _inside(node, container) -> bool:
    return container.start_byte <= node.start_byte and node.end_byte <= container.end_byte


def _declarator_removal(declarator) -> tuple[int, int, str]:
    """Remove ``, j = n - 1`` from the initializer (the comma before the declarator)."""
    previous = declarator.prev_sibling
    start = previous.start_byte if previous is not None and text(previous) == "," \
        else declarator.start_byte
    return start, declarator.end_byte, ""


def _update_removal(node) -> tuple[int, int, str]:
    """Remove ``, --j`` (or ``--j, ``) from the header's update."""
    parent = node.parent
    if parent is not None and parent.type == "comma_expression":
        previous, following = node.prev_sibling, node.next_sibling
        if previous is not None and text(previous) == ",":
            return previous.start_byte, node.end_byte, ""
        if following is not None and text(following) == ",":
            return node.start_byte, following.end_byte, ""
    return node.start_byte, node.end_byte, ""
