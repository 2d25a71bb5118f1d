"""What every emitter shares: the loop's text pieces, the result record, type spellings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ellora.tools.loops.cxx_types import CType
from ellora.tools.loops.legality.verdict import Verdict

MPI_TYPES = {
    "double": "MPI_DOUBLE", "float": "MPI_FLOAT", "long double": "MPI_LONG_DOUBLE",
    "int": "MPI_INT", "long": "MPI_LONG", "long long": "MPI_LONG_LONG",
    "long int": "MPI_LONG", "long long int": "MPI_LONG_LONG", "short": "MPI_SHORT",
    "unsigned": "MPI_UNSIGNED", "unsigned int": "MPI_UNSIGNED",
    "unsigned long": "MPI_UNSIGNED_LONG", "unsigned long long": "MPI_UNSIGNED_LONG_LONG",
    "size_t": "MPI_UNSIGNED_LONG", "std::size_t": "MPI_UNSIGNED_LONG",
    "char": "MPI_CHAR", "signed char": "MPI_SIGNED_CHAR", "unsigned char": "MPI_UNSIGNED_CHAR",
    "int64_t": "MPI_INT64_T", "std::int64_t": "MPI_INT64_T", "int32_t": "MPI_INT32_T",
    "std::int32_t": "MPI_INT32_T", "uint64_t": "MPI_UINT64_T", "std::uint64_t": "MPI_UINT64_T",
    "uint32_t": "MPI_UINT32_T", "std::uint32_t": "MPI_UINT32_T", "bool": "MPI_CXX_BOOL",
    "std::complex<double>": "MPI_CXX_DOUBLE_COMPLEX",
    "std::complex<float>": "MPI_CXX_FLOAT_COMPLEX",
}


class NotEmittable(ValueError):
    """The verdict holds, but this target has no transformation for it (the message says
    what); the loop stays serial."""


@dataclass
class Emission:
    """The loop's replacement: bytes [start, end) of the source become ``code``; the
    includes and helper definitions go after the file's includes."""

    start: int
    end: int
    code: str
    explanation: str
    includes: tuple[str, ...] = ()
    helpers: tuple[str, ...] = ()
    kokkos: bool = False
    apart_helper: bool = False
    notes: list[str] = field(default_factory=list)


def mpi_type(ctype: CType | None) -> str:
    name = " ".join((ctype.name if ctype is not None else "?").replace("const", "").split())
    if name not in MPI_TYPES:
        raise NotEmittable(f"no MPI datatype is known for {name}")
    return MPI_TYPES[name]


def text_of(node) -> str:
    return node.text.decode()


def mentions(node, name: str) -> bool:
    """Whether a variable ``name`` appears under ``node``."""
    return any(n.type == "identifier" and text_of(n) == name for n in _nodes(node))


def _nodes(node):
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def _single_statement(node):
    while node is not None and node.type == "compound_statement":
        named = [c for c in node.named_children if c.type != "comment"]
        if len(named) != 1:
            return None
        node = named[0]
    return node


def _guard(statement):
    """The ``if`` whose consequence is exactly ``statement``, else None."""
    parent = statement.parent if statement is not None else None
    if parent is not None and parent.type == "compound_statement":
        if _single_statement(parent) is not statement and _single_statement(parent) != statement:
            return None
        parent = parent.parent
    if parent is None or parent.type != "if_statement":
        return None
    return parent


_COMPOUND = {"+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "&=": "&", "|=": "|",
             "^=": "^", "<<=": "<<", ">>=": ">>"}


def _assigned_value(text: LoopText, statement):
    """(target text, value text) of ``a[i] = v;`` / ``a[i] op= v;``, else None."""
    if statement is None or statement.type != "expression_statement":
        return None
    expression = next((c for c in statement.named_children if c.type != "comment"), None)
    if expression is None or expression.type != "assignment_expression" or \
            expression.child_by_field_name("left").type != "subscript_expression":
        return None
    target = text.rewrite(expression.child_by_field_name("left"))
    value = text.rewrite(expression.child_by_field_name("right"))
    operator = text_of(expression.child(1))
    if operator == "=":
        return target, value
    if operator in _COMPOUND:
        return target, f"{target} {_COMPOUND[operator]} ({value})"
    return None


def identifier_edits(node, renames: dict[str, str]) -> list[tuple[int, int, str]]:
    """(start, end, new name) for every variable identifier under ``node`` in ``renames``."""
    if not renames:
        return []
    edits, stack = [], [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier" and text_of(current) in renames and \
                not _callee_or_qualified(current):
            edits.append((current.start_byte, current.end_byte, renames[text_of(current)]))
        stack.extend(current.children)
    return edits


def _callee_or_qualified(node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type in ("qualified_identifier", "template_function"):
        return True
    return parent.type == "call_expression" and parent.child_by_field_name("function") == node


class LoopText:
    """The source pieces of the loop a verdict is about."""

    def __init__(self, verdict: Verdict):
        self.verdict = verdict
        self.model = verdict.loop
        self.header = self.model.header
        self.source = self.model.function.source
        self.data = self.source.encode()
        self.node = self.model.node
        self.captures: dict[str, str] = {}  # outer objects renamed inside a Kokkos lambda
        self.if_convert = False  # conditional stores to owned elements become selects
        self.mpi_root = False  # MPI results needed on rank 0 only
        self.element_iterator: str | None = None  # a range loop's element read through it
        self.c_dialect = False  # run-time tests written in C (an OpenMP port of a C file)

    @property
    def var(self) -> str:
        return self.header.var

    @property
    def var_type(self) -> str:
        return self.header.type_text

    @property
    def indent(self) -> str:
        start = self.node.start_byte
        line_start = self.data.rfind(b"\n", 0, start) + 1
        return re.match(rb"[ \t]*", self.data[line_start:]).group(0).decode()

    @property
    def label(self) -> str:
        name = re.sub(r"\W", "_", self.model.function.name or "loop")
        return f"{name}_line{self.header.line}"

    @property
    def guard(self) -> str:
        return f"ellora_disjoint_{self.header.line}"

    def span(self) -> tuple[int, int]:
        """Bytes of the loop, with an OpenMP pragma directly above it."""
        previous = self.node.prev_named_sibling
        start = self.node.start_byte
        if previous is not None and previous.type == "preproc_call" and \
                text_of(previous).split()[:2] == ["#pragma", "omp"]:
            start = previous.start_byte
        return start, self.node.end_byte

    def original(self) -> str:
        """The loop's text, its lines relative to the loop's indentation."""
        return self.dedent(self.data[self.node.start_byte:self.node.end_byte].decode())

    def dedent(self, text: str) -> str:
        indent = self.indent
        lines = text.split("\n")
        return "\n".join([lines[0]] + [line[len(indent):] if line.startswith(indent) else
                                       line.lstrip(" \t") if not line.strip() else line
                                       for line in lines[1:]])

    def slice(self, start: int, end: int) -> str:
        return self.data[start:end].decode()

    def body(self, edits: list[tuple[int, int, str]] = (), skip: tuple = ()) -> str:
        """The loop body as a block, with edits (absolute byte spans) applied, statements in
        ``skip`` left out, and a range-based loop's element declared at its top."""
        body = self.model.body
        start, end = body.start_byte, body.end_byte
        taken = [(s.start_byte, s.end_byte, "") for s in skip] + list(edits)
        if self.if_convert:
            taken += [e for e in self.if_conversions()
                      if not any(a <= e[0] < b or e[0] <= a < e[1] for a, b, _ in taken)]
        renamed = [e for e in identifier_edits(body, self.captures)
                   if not any(a <= e[0] < b for a, b, _ in taken)]
        pieces = sorted([*taken, *renamed], reverse=True)
        data = self.data[start:end]
        for first, last, replacement in pieces:
            data = data[: first - start] + replacement.encode() + data[last - start:]
        text = self.dedent(data.decode())
        if body.type != "compound_statement":
            text = "{ " + text + " }"
        element = self.element_declaration()
        if element:
            text = "{ " + element + " " + text[1:]
        return text

    def if_conversions(self) -> list[tuple[int, int, str]]:
        """``if (c) a[i] = v;`` (and ``else a[i] = w;``) on an element only this iteration
        touches becomes ``a[i] = (c) ? v : a[i];``: an unconditional store the compiler can
        vectorize (it may not add stores to the serial loop itself). Only the element's own
        iteration reads or writes it, so the extra store changes nothing another thread sees."""
        owned = {o.base for o in self.verdict.owned}
        edits = []
        for access in self.model.accesses:
            if access.base not in owned or not access.writes or access.loops:
                continue
            statement = access.statement
            guard = _guard(statement)
            if guard is None or any(e[0] == guard.start_byte for e in edits):
                continue
            condition = guard.child_by_field_name("condition")
            if any(n.type in ("assignment_expression", "update_expression", "call_expression")
                   for n in _nodes(condition)):
                continue
            taken = _assigned_value(self, statement)
            if taken is None:
                continue
            alternative = guard.child_by_field_name("alternative")
            target, value = taken
            other = target
            if alternative is not None:
                branch = next((c for c in alternative.named_children if c.type != "comment"),
                              None)
                branch = _single_statement(branch)
                found = _assigned_value(self, branch) if branch is not None else None
                if found is None or "".join(found[0].split()) != "".join(target.split()):
                    continue
                other = found[1]
            edits.append((guard.start_byte, guard.end_byte,
                          f"{target} = {self.rewrite(condition)} ? ({value}) : ({other});"))
        return edits

    def element_declaration(self) -> str:
        """``auto const& v = x[ellora_v_index];`` for a range-based loop, ``auto it =
        &x[ellora_it_index];`` for an iterator loop (``*it``, ``it->m`` read the element
        as before), else ""."""
        if self.header.range_of is None:
            return ""
        if self.header.iterator is not None:
            container = self.captures.get(self.header.range_of, self.header.range_of)
            return f"auto {self.header.iterator} = &{container}[{self.var}];"
        return self.range_element(self.node, self.header)

    def range_element(self, node, header) -> str:
        declarator = node.child_by_field_name("declarator")
        first = next(c for c in node.children if c.type == "(").end_byte
        declaration = self.data[first:declarator.end_byte].decode().strip()
        container = self.captures.get(header.range_of, header.range_of)
        if header is self.header and self.element_iterator:
            return f"{declaration} = *{self.element_iterator};"
        return f"{declaration} = {container}[{header.var}];"

    def block_loop(self, lower: str, upper: str) -> str:
        """The loop over the iterations [lower, upper) (one rank's block) with its body. A
        range-based loop over a ``std::vector<bool>`` also advances an iterator and reads
        the element through it: the packed bits are then read word by word, where
        ``x[k]`` divides and masks for every element."""
        var, kind = self.var, self.var_type
        base = self.model.bases.get(self.header.range_of) if self.header.range_of else None
        if base is None or base.ctype.kind != "bool_vector" or self.header.step_text != "1":
            return f"{self.loop_head(f'({kind}){lower}', f'({kind}){upper}')} {self.body()}"
        container = self.captures.get(self.header.range_of, self.header.range_of)
        self.element_iterator = "ellora_bits"
        try:
            body = self.body()
        finally:
            self.element_iterator = None
        return (f"{{ auto ellora_bits = std::next({container}.begin(), {lower});\n"
                f"  for ({kind} {var} = ({kind}){lower}; {var} < ({kind}){upper}; "
                f"++{var}, ++ellora_bits) {body} }}")

    def loop_head(self, lower: str | None = None, upper: str | None = None,
                  var_type: str | None = None) -> str:
        """``for (T v = lower; v < upper; v += step)`` over the loop's set, ascending."""
        lower = self.header.lower_text if lower is None else lower
        upper = self.header.upper_text if upper is None else upper
        kind = var_type or self.var_type
        step = "++" + self.var if self.header.step_text == "1" else \
            f"{self.var} += {self.header.step_text}"
        return f"for ({kind} {self.var} = {lower}; {self.var} < {upper}; {step})"

    def as_index_loop(self, edits=(), skip=()) -> str:
        """The loop with a range-based header rewritten to an index loop, a shifted test
        made canonical (``i < n - 1``) and the edits applied."""
        body = self.body(edits, skip)
        if self.header.range_of is not None or self.header.canonical_test is not None:
            if self.header.descending and not self.header.unit_step:
                raise NotEmittable("a strided descending loop with a shifted test is not "
                                   "rewritten")
            if self.header.descending and self.verdict.lastprivates:
                raise NotEmittable("a value kept after a descending loop (lastprivate) "
                                   "needs the loop's own order")
            return f"{self.loop_head()} {body}"
        head = self.data[self.node.start_byte:self.model.body.start_byte].decode()
        return head + body

    def rewrite(self, node, renames: dict[str, str] | None = None,
                replace: dict[tuple[int, int], str] | None = None) -> str:
        """The text of ``node`` (lines relative to the loop's indentation) with identifiers
        renamed (variables only, never members or qualified names) and node spans
        replaced."""
        edits = {}
        for first, last, value in identifier_edits(node, {**self.captures, **(renames or {})}):
            edits[(first, last)] = value
        for (first, last), value in (replace or {}).items():
            for key in [k for k in edits if first <= k[0] < last]:
                del edits[key]
            edits[(first, last)] = value
        data = self.data[node.start_byte:node.end_byte]
        for (first, last), value in sorted(edits.items(), reverse=True):
            data = data[: first - node.start_byte] + value.encode() + \
                data[last - node.start_byte:]
        return self.dedent(data.decode())

    def reindent(self, code: str) -> str:
        return code.replace("\n", "\n" + self.indent)

    def type_of(self, name: str) -> CType | None:
        symbol = self.model.function.scope.lookup(name, self.node.start_byte)
        return symbol.ctype if symbol is not None else None

    def declared_spelling(self, name: str) -> str:
        """The type a private copy of ``name`` is declared with (no const, no reference)."""
        ctype = self.type_of(name)
        if ctype is None or ctype.kind in ("auto", "unknown"):
            return f"std::decay_t<decltype({name})>"
        return ctype.name


def pad_lines(code: str, pad: str = "  ") -> str:
    """``code`` with every non-empty line prefixed by ``pad``, ending in a newline."""
    return "".join(pad + line + "\n" if line else "\n" for line in code.rstrip("\n").split("\n"))
