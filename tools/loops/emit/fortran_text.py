"""What the Fortran emitters share: the loop's text pieces (header parts, body statements,
identifiers renamed), the emission record that names the modules to ``use``, type and MPI
datatype spellings, and free-form line wrapping (lines stay under 132 columns)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ellora.tools.loops.emit.common import Emission, NotEmittable
from ellora.tools.loops.fortran.header import do_header
from ellora.tools.loops.fortran.syntax import loop_body, lower, named, spelled, walk
from ellora.tools.loops.legality.verdict import Verdict

LINE_LIMIT = 120  # free form allows 132; generated lines wrap before that
OPENMP_OPERATORS = {"+": "+", "*": "*", "max": "max", "min": "min", "&&": ".and.",
                    "||": ".or.", "&": "iand", "|": "ior", "^": "ieor"}
MIN_PARALLEL_TRIP = 4096  # a loop of single statements runs on threads from this many trips


@dataclass
class FortranEmission(Emission):
    """An emission into a Fortran source: ``uses`` are the modules the code needs
    (``omp_lib``, ``mpi_f08``), put in the procedure starting at ``unit_start``."""

    language: str = "fortran"
    uses: tuple[str, ...] = ()
    unit_start: int = -1


class FortranText:
    """The source pieces of the loop a verdict is about."""

    def __init__(self, verdict: Verdict):
        self.verdict = verdict
        self.model = verdict.loop
        self.header = self.model.header
        self.node = self.model.node
        self.data = self.model.function.source.encode()
        self.scope = self.model.function.scope
        self.info = do_header(self.node)
        self.unit = self.model.function.definition

    @property
    def var(self) -> str:
        return self.header.var

    @property
    def indent(self) -> str:
        start = self.node.start_byte
        line_start = self.data.rfind(b"\n", 0, start) + 1
        return re.match(rb"[ \t]*", self.data[line_start:]).group(0).decode()

    @property
    def line(self) -> int:
        return self.header.line

    def slice(self, node) -> str:
        return self.data[node.start_byte:node.end_byte].decode()

    def original(self) -> str:
        """The loop's text, its lines relative to the loop's indentation."""
        return self.dedent(self.slice(self.node))

    def dedent(self, text: str, indent: str | None = None) -> str:
        indent = self.indent if indent is None else indent
        return "\n".join(line[len(indent):] if line.startswith(indent) else line.lstrip(" \t")
                         for line in text.split("\n"))

    def reindent(self, code: str) -> str:
        return code.replace("\n", "\n" + self.indent)

    def statements(self) -> list:
        return loop_body(self.node)

    def rewrite(self, node, renames: dict[str, str] | None = None,
                replace: dict[tuple[int, int], str] | None = None) -> str:
        """The text of ``node`` with variable names renamed (any case) and spans replaced,
        its lines relative to the loop's indentation."""
        edits: dict[tuple[int, int], str] = {}
        for found in walk(node):
            if found.type == "identifier" and renames and lower(found) in renames and \
                    not _is_keyword_name(found):
                edits[(found.start_byte, found.end_byte)] = renames[lower(found)]
        for (first, last), value in (replace or {}).items():
            for key in [k for k in edits if first <= k[0] < last]:
                del edits[key]
            edits[(first, last)] = value
        data = self.data[node.start_byte:node.end_byte]
        for (first, last), value in sorted(edits.items(), reverse=True):
            data = data[: first - node.start_byte] + value.encode() + \
                data[last - node.start_byte:]
        return self.dedent(data.decode(), self.indent_of(node))

    def indent_of(self, node) -> str:
        """The blanks before ``node`` on its line ("" when other text precedes it)."""
        start = self.data.rfind(b"\n", 0, node.start_byte) + 1
        before = self.data[start:node.start_byte].decode()
        return before if not before.strip() else ""

    def body_text(self, renames=None, skip: tuple = (), replace=None) -> str:
        """The body statements' text (with the comments between them), renamed."""
        parts, statements = [], self.statements()
        for statement in statements:
            if any(statement == s for s in skip):
                continue
            parts.append(self.rewrite(statement, renames, replace))
        return "\n".join(parts)

    def bounds(self) -> tuple[str, str, str | None]:
        """(start, end, step) texts of the first index, as written."""
        control = self.info.controls[0]
        return (spelled(control.start), spelled(control.end),
                spelled(control.step) if control.step is not None else None)

    def head(self, var: str | None = None, start: str | None = None, end: str | None = None,
             step: str | None = "") -> str:
        """``do var = start, end[, step]`` over the first index (as written by default)."""
        own_start, own_end, own_step = self.bounds()
        step = own_step if step == "" else step
        text = f"do {var or self.var} = {start or own_start}, {end or own_end}"
        return text + (f", {step}" if step else "")

    def type_of(self, name: str):
        """The declaration of a variable, or of a component for a path ``obj.comp``."""
        if "." in name:
            root_name, component = name.split(".", 1)
            root = self.scope.lookup(root_name, self.node.start_byte)
            components = self.scope.file.types.get(root.ftype.base) if root else None
            return components.get(component) if components else None
        return self.scope.lookup(name, self.node.start_byte)

    def spelling(self, name: str) -> str:
        """The declared type of a scalar (or of an array's elements), as written."""
        symbol = self.type_of(name)
        if symbol is None:
            raise NotEmittable(f"the type of {name} is not known")
        if symbol.ftype.base not in ("integer", "real", "complex", "logical"):
            raise NotEmittable(f"{name} is of type {symbol.ftype.spelling}, which the "
                               "transformation does not copy")
        return symbol.ftype.spelling

    def private_names(self) -> list[str]:
        """Scalars the iterations keep to themselves (their temporaries and the verdict's
        privates), without loop variables and ``block`` locals."""
        block_locals = {s.name for s in self.scope.declared_in(self.node.start_byte,
                                                               self.node.end_byte)}
        inner = {h.var for h in self.model.inner}
        names = (set(self.model.locals) | set(self.verdict.privates)) - inner - block_locals
        return sorted(n for n in names if n != self.var)

    def existing_directive(self) -> int | None:
        """The line of an ``!$omp`` directive right above the loop, if any."""
        previous = self.node.prev_sibling
        while previous is not None and previous.type == "comment":
            if previous.text.decode().lstrip().lower().startswith("!$omp"):
                return previous.start_point[0] + 1
            previous = previous.prev_sibling
        return None

    def emission(self, code: str, explanation: str, uses: tuple[str, ...] = ()) -> \
            FortranEmission:
        return FortranEmission(self.node.start_byte, self.node.end_byte,
                               self.reindent(wrap(code)), explanation, uses=uses,
                               unit_start=self.unit.start_byte)


def fortran_name(base: str) -> str:
    """A base as Fortran spells it (``obj.comp`` is ``obj%comp``)."""
    return base.replace(".", "%")


def local_name(base: str) -> str:
    """The name of a temporary made for ``base`` (``ellora_obj_comp``)."""
    return "ellora_" + base.replace(".", "_")


def _is_keyword_name(node) -> bool:
    parent = node.parent
    return parent is not None and parent.type == "keyword_argument" and \
        parent.child_by_field_name("name") == node


def directive(words: str, clauses: list[str]) -> str:
    """An ``!$omp`` directive line, continued with ``!$omp&`` when long."""
    lines, current = [], f"!$omp {words}"
    for clause in clauses:
        if len(current) + len(clause) + 1 > LINE_LIMIT:
            lines.append(current + " &")
            current = "!$omp& " + clause
        else:
            current += " " + clause
    lines.append(current)
    return "\n".join(lines)


def wrap(code: str) -> str:
    """Lines of generated code longer than the limit, continued with ``&`` at a comma or
    blank outside strings (directives are already wrapped; comments are left alone)."""
    out = []
    for line in code.split("\n"):
        stripped = line.lstrip()
        if len(line) <= LINE_LIMIT or stripped.startswith("!"):
            out.append(line)
            continue
        indent = line[: len(line) - len(stripped)]
        while len(line) > LINE_LIMIT:
            cut = _cut(line, LINE_LIMIT - 2)
            if cut <= len(indent) + 4:
                break
            out.append(line[:cut].rstrip() + " &")
            line = indent + "    & " + line[cut:].lstrip()
        out.append(line)
    return "\n".join(out)


def _cut(line: str, limit: int) -> int:
    quote, best = None, -1
    for position, character in enumerate(line[:limit]):
        if quote is None and character in "'\"":
            quote = character
        elif quote == character:
            quote = None
        elif quote is None and character in ", ":
            best = position + 1
    return best


MPI_REAL = {4: "MPI_REAL", 8: "MPI_DOUBLE_PRECISION", 16: "MPI_REAL16"}
MPI_INTEGER = {1: "MPI_INTEGER1", 2: "MPI_INTEGER2", 4: "MPI_INTEGER", 8: "MPI_INTEGER8"}
MPI_COMPLEX = {4: "MPI_COMPLEX", 8: "MPI_DOUBLE_COMPLEX"}


def mpi_datatype(text: FortranText, name: str) -> str:
    """The MPI datatype of a variable's (or an array's element) type."""
    symbol = text.type_of(name)
    ftype = symbol.ftype if symbol is not None else None
    table = {"real": MPI_REAL, "integer": MPI_INTEGER, "complex": MPI_COMPLEX}
    if ftype is not None and ftype.base == "logical":
        return "MPI_LOGICAL"
    if ftype is None or ftype.base not in table or ftype.kind not in table[ftype.base]:
        spelled_type = ftype.spelling if ftype is not None else "?"
        raise NotEmittable(f"no MPI datatype is known for {name} ({spelled_type})")
    return table[ftype.base][ftype.kind]


def reduction_clauses(verdict: Verdict, extra: dict[str, list[str]] | None = None) -> list:
    by_operator: dict[str, list[str]] = {}
    for reducer in verdict.reducers:
        by_operator.setdefault(OPENMP_OPERATORS[reducer.operator], []).append(reducer.name)
    for operator, names in (extra or {}).items():
        by_operator.setdefault(operator, []).extend(names)
    return [f"reduction({operator}:{', '.join(names)})"
            for operator, names in by_operator.items()]


def single_statement_trip(text: FortranText) -> str:
    """``if(...)`` for a loop of single statements: threads only from enough trips."""
    model = text.model
    if model.inner or not text.header.unit_step or any(a.loops for a in model.accesses):
        return ""  # inner loops (or array sections, implied loops) do enough work per trip
    return f"if({model.render(text.header.upper - text.header.lower)} >= {MIN_PARALLEL_TRIP})"


__all__ = [
    "FortranEmission",
    "FortranText",
    "directive",
    "mpi_datatype",
    "named",
    "reduction_clauses",
    "wrap",
]
