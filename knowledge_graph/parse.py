"""Parse one source file into facts: definitions, references, includes, bases, constructs.

One tree-sitter query per language (``queries/<language>.scm``) does the matching; this module
only turns captures into plain records (picklable, no tree-sitter objects), attributing each
reference to the innermost definition that contains it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ellora.knowledge_graph import constructs
from ellora.knowledge_graph.languages import new_parser, query

SCOPE_KINDS = {"namespace", "class", "struct"}
KINDS = {"definition.function": "function", "declaration.function": "function",
         "definition.class": "class", "definition.struct": "struct",
         "definition.type": "type", "definition.namespace": "namespace",
         "definition.macro": "macro"}
SIGNATURE_CHARS = 200
FIRST_LINE_TYPES = {"subroutine", "function", "module", "program", "derived_type_definition",
                    "interface", "preproc_def", "preproc_function_def", "namespace_definition"}


class Unparseable(Exception):
    """The file is binary, not UTF-8, too large or mostly syntax errors."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Definition:
    """A named definition (or a function prototype) with 1-based line numbers."""

    kind: str
    name: str
    qualified: str
    start: int
    end: int
    doc_start: int
    signature: str
    declaration: bool = False


@dataclass
class FileFacts:
    """What a file defines and uses; ``references`` are (definition index or -1, kind, name,
    qualified name); ``constructs`` are (definition index or -1, construct, line);
    ``chunks`` (set by the indexer) are (first line, last line, definition indices)."""

    path: str
    language: str
    digest: str
    lines: int
    definitions: list[Definition] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    references: list[tuple[int, str, str, str]] = field(default_factory=list)
    bases: list[tuple[int, str]] = field(default_factory=list)
    constructs: list[tuple[int, str, int]] = field(default_factory=list)
    chunks: list[tuple[int, int, list[int]]] = field(default_factory=list)


def content_digest(data: bytes) -> str:
    """The content hash that decides whether a file is parsed again."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def check_text(data: bytes, max_bytes: int) -> str:
    """Decode a source file, raising :class:`Unparseable` for huge, binary or non-UTF-8."""
    if len(data) > max_bytes:
        raise Unparseable("huge")
    if b"\0" in data[:8192]:
        raise Unparseable("binary")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unparseable("non-utf8") from None


def strip_templates(text: str) -> str:
    """``Kokkos::parallel_for<Kokkos::OpenMP>`` -> ``Kokkos::parallel_for`` (and spaces)."""
    if "<" in text and not text.startswith("operator"):
        out, depth = [], 0
        for char in text:
            if char == "<":
                depth += 1
            elif char == ">":
                depth = max(0, depth - 1)
            elif depth == 0:
                out.append(char)
        text = "".join(out)
    if " " in text or "\n" in text or "\t" in text:
        text = "".join(text.split())
    return text.lstrip(":") if text[:1] == ":" else text


def parse_file(path: str, data: bytes, language: str, parser=None) -> FileFacts:
    """Facts of one file's bytes; raises :class:`Unparseable` when tree-sitter cannot cope."""
    parser = parser or new_parser(language)
    try:
        tree = parser.parse(data)
    except (ValueError, RuntimeError) as error:
        raise Unparseable(f"parser: {error}") from None
    root = tree.root_node
    facts = FileFacts(path=path, language=language, digest=content_digest(data),
                      lines=data.count(b"\n") + 1)
    _collect(facts, root, data, language)
    if root.has_error and not facts.definitions and _mostly_errors(root):
        raise Unparseable("syntax")
    return facts


def _mostly_errors(root) -> bool:
    total = max(1, root.end_byte - root.start_byte)
    bad = sum(c.end_byte - c.start_byte for c in root.children if c.type == "ERROR")
    return bad > total / 2


def _collect(facts: FileFacts, root, data: bytes, language: str) -> None:
    """Run the tag query and sort its captures into ``facts``."""
    from tree_sitter import QueryCursor

    raw_defs: list[tuple] = []
    refs: list[tuple[int, str, bytes]] = []  # (byte, kind, text)
    for _pattern, caps in QueryCursor(query(language)).matches(root):
        if "name" in caps:
            raw_defs.append(_raw_definition(caps, data))
        elif "reference.call" in caps:
            node = caps["reference.call"][0]
            refs.append((node.start_byte, "call", node.text))
        elif "reference.type" in caps:
            node = caps["reference.type"][0]
            refs.append((node.start_byte, "type", node.text))
        elif "include" in caps:
            facts.includes.append(caps["include"][0].text.decode().strip("<>\"' "))
        elif "base" in caps:
            refs.append((caps["class"][0].start_byte, "base", caps["base"][0].text))
        elif "pragma" in caps:
            _add_pragma(caps, refs, language)
        elif "launch" in caps:
            node = caps["launch"][0]
            refs.append((node.start_byte, "launch", node.text))
    def_ranges = _qualify(facts, raw_defs)
    _attribute(facts, def_ranges, refs, data)


def _raw_definition(caps, data: bytes) -> tuple:
    """(start byte, end byte, capture key, name, start line, end line, doc line, signature)."""
    for key in caps:
        if key != "name":
            break
    node = caps[key][0]
    parent = node.parent
    outer = parent if parent is not None and parent.type == "template_declaration" else node
    return (outer.start_byte, node.end_byte, key, caps["name"][0].text,
            outer.start_point.row + 1, _last_line(node), _doc_start(outer),
            _signature(node, outer, data))


def _qualify(facts: FileFacts, raw_defs: list[tuple]) -> list[tuple[int, int, int]]:
    """Qualified names from the nesting of definitions (one sweep over sorted ranges); drops
    prototype-looking statements inside function bodies. Returns (start, end, index) ranges
    of the definitions that can own references."""
    raw_defs.sort(key=lambda d: (d[0], -d[1]))
    stack: list[tuple[int, str, str]] = []  # (end byte, kind, qualified)
    ranges: list[tuple[int, int, int]] = []
    last = None
    for start, end, key, name_bytes, line, end_line, doc, signature in raw_defs:
        if (start, key) == last:
            continue
        last = (start, key)
        while stack and stack[-1][0] <= start:
            stack.pop()
        kind = KINDS[key]
        if key == "declaration.function" and stack and stack[-1][1] in ("function", "method"):
            continue
        raw = strip_templates(name_bytes.decode(errors="replace"))
        if not raw:
            continue
        scope = next((entry for entry in reversed(stack) if entry[1] in SCOPE_KINDS), None)
        if kind == "function" and ((scope and scope[1] != "namespace") or "::" in raw):
            kind = "method"
        qualified = f"{scope[2]}::{raw}" if scope else raw
        facts.definitions.append(Definition(
            kind=kind, name=raw.rsplit("::", 1)[-1], qualified=qualified, start=line,
            end=end_line, doc_start=doc, signature=signature,
            declaration=key.startswith("declaration")))
        index = len(facts.definitions) - 1
        if kind != "namespace":
            ranges.append((start, end, index))
        if "__global__" in signature:
            facts.constructs.append((index, "cuda kernel", line))
        stack.append((end, kind, qualified))
    return ranges


def _last_line(node) -> int:
    """1-based last line; a node that ends at column 0 ends on the line before."""
    end = node.end_point
    return max(node.start_point.row + 1, end.row + (1 if end.column else 0))


def _doc_start(outer) -> int:
    """First line of the comment block right above a definition (its own line if none)."""
    row = outer.start_point.row
    previous = outer.prev_sibling
    while previous is not None and previous.type == "comment" and previous.end_point.row >= row - 1:
        row = previous.start_point.row
        previous = previous.prev_sibling
    return row + 1


def _signature(node, outer, data: bytes) -> str:
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None else node.end_byte
    if node.type in FIRST_LINE_TYPES:
        newline = data.find(b"\n", outer.start_byte, end)
        end = end if newline < 0 else newline
    end = min(end, outer.start_byte + 4 * SIGNATURE_CHARS)
    text = " ".join(data[outer.start_byte:end].decode("utf-8", "replace").split())
    return text[:SIGNATURE_CHARS]


def _add_pragma(caps, refs: list, language: str) -> None:
    node = caps["pragma"][0]
    text = node.text.decode()
    if language == "fortran":
        lowered = text.lstrip().lower()
        if not (lowered.startswith(("!$omp", "!$acc"))):
            return
        text = lowered[2:]
    elif caps["directive"][0].text != b"#pragma":
        return
    refs.append((node.start_byte, "pragma", text.encode()))


def _attribute(facts: FileFacts, def_nodes, refs, data: bytes) -> None:
    """Give every reference its innermost enclosing definition (one sweep over sorted ranges)."""
    refs.sort(key=lambda r: r[0])
    stack: list[tuple[int, int, int]] = []
    next_def = 0
    seen: set[tuple[int, str, bytes]] = set()
    for position, kind, text in refs:
        while next_def < len(def_nodes) and def_nodes[next_def][0] <= position:
            candidate = def_nodes[next_def]
            while stack and stack[-1][1] <= candidate[0]:
                stack.pop()
            stack.append(candidate)
            next_def += 1
        while stack and stack[-1][1] <= position:
            stack.pop()
        owner = stack[-1][2] if stack else -1
        if (owner, kind, text) in seen:
            continue
        seen.add((owner, kind, text))
        _record(facts, owner, kind, text.decode(errors="replace"), position, data)


def _record(facts: FileFacts, owner: int, kind: str, text: str, position: int,
            data: bytes) -> None:
    if kind == "pragma":
        line = data.count(b"\n", 0, position) + 1
        for construct in constructs.pragma_constructs(text):
            facts.constructs.append((owner, construct, line))
        return
    qualified = strip_templates(text)
    name = qualified.rsplit("::", 1)[-1]
    if not name:
        return
    if kind == "base":
        facts.bases.append((owner, name))
        return
    if kind == "launch":
        facts.references.append((owner, "call", name, qualified))
        facts.constructs.append((owner, "cuda kernel launch", data.count(b"\n", 0, position) + 1))
        return
    if owner >= 0 and name == facts.definitions[owner].name:
        return
    facts.references.append((owner, kind, name, qualified))
    found = (constructs.call_construct(qualified, name) if kind == "call"
             else constructs.type_construct(name))
    if found:
        facts.constructs.append((owner, found, data.count(b"\n", 0, position) + 1))
