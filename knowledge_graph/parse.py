"""Parse one source file into facts: definitions, references, includes, bases, constructs.

One tree-sitter query per language (``queries/<language>.scm``) does the matching; this module
only turns captures into plain records (picklable, no tree-sitter objects), attributing each
reference to the innermost definition that contains it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from typing import NamedTuple

from ellora.knowledge_graph import constructs
from ellora.knowledge_graph.languages import grammar, new_parser, query

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

    def __reduce__(self):
        # the fields as one tuple: pickles (into the fact store) twice as fast as the
        # default slots state; facts pickled before this still load the default way
        return (Definition, (self.kind, self.name, self.qualified, self.start, self.end,
                             self.doc_start, self.signature, self.declaration))


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
    """The content hash that decides whether a file is parsed again (SHA-256, which CPUs
    accelerate: twice as fast here as BLAKE2b; 128 bits kept)."""
    return hashlib.sha256(data).hexdigest()[:32]


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
    add_ref, add_def = refs.append, raw_defs.append
    kinds = _kinds(language)
    for _pattern, caps in QueryCursor(query(language)).matches(root):
        # most matches are type uses, then calls: test for those first
        if "reference.type" in caps:
            node = caps["reference.type"][0]
            start = node.start_byte
            add_ref((start, "type", data[start:node.end_byte]))
        elif "name" in caps:
            add_def(_raw_definition(caps, data, kinds))
        elif "reference.call" in caps:
            node = caps["reference.call"][0]
            start = node.start_byte
            add_ref((start, "call", data[start:node.end_byte]))
        elif "include" in caps:
            facts.includes.append(_text(caps["include"][0], data).decode().strip("<>\"' "))
        elif "base" in caps:
            add_ref((caps["class"][0].start_byte, "base", _text(caps["base"][0], data)))
        elif "pragma" in caps:
            _add_pragma(caps, refs, language, data)
        elif "launch" in caps:
            node = caps["launch"][0]
            add_ref((node.start_byte, "launch", _text(node, data)))
    def_ranges = _qualify(facts, raw_defs)
    _attribute(facts, def_ranges, refs, data)


def _text(node, data: bytes) -> bytes:
    """``node.text``, sliced from the parsed bytes (``Node.text`` goes through a memoryview
    and costs several times more)."""
    return data[node.start_byte:node.end_byte]


class _Kinds(NamedTuple):
    """Node kind ids (and the ``body`` field id) of a grammar that ``_raw_definition`` tests:
    comparing ids is cheaper than comparing ``Node.type`` names."""

    templates: frozenset[int]
    comments: frozenset[int]
    first_line: frozenset[int]
    body_field: int | None


@cache
def _kinds(language: str) -> _Kinds:
    lang = grammar(language)

    def ids(names) -> frozenset[int]:
        return frozenset(i for i in range(lang.node_kind_count)
                         if lang.node_kind_for_id(i) in names)

    return _Kinds(ids({"template_declaration"}), ids({"comment"}), ids(FIRST_LINE_TYPES),
                  lang.field_id_for_name("body"))


def _raw_definition(caps, data: bytes, kinds: _Kinds) -> tuple:
    """(start byte, -end byte, capture key, name, start line, end line, doc line, signature)."""
    templates, comments, first_line, body_field = kinds
    for key in caps:
        if key != "name":
            break
    node = caps[key][0]
    outer = node
    if templates:
        parent = node.parent
        if parent is not None and parent.kind_id in templates:
            outer = parent
    outer_start = outer.start_byte
    outer_row = outer.start_point.row
    start_row = outer_row if outer is node else node.start_point.row
    end = node.end_point
    last_line = max(start_row + 1, end.row + (1 if end.column else 0))
    # the comment block right above the definition
    doc_row = outer_row
    previous = outer.prev_sibling
    while (previous is not None and previous.kind_id in comments
           and previous.end_point.row >= doc_row - 1):
        doc_row = previous.start_point.row
        previous = previous.prev_sibling
    # the signature: up to the body (or the first line), at most SIGNATURE_CHARS
    body = node.child_by_field_id(body_field) if body_field is not None else None
    stop = body.start_byte if body is not None else node.end_byte
    if node.kind_id in first_line:
        newline = data.find(b"\n", outer_start, stop)
        stop = stop if newline < 0 else newline
    stop = min(stop, outer_start + 4 * SIGNATURE_CHARS)
    signature = " ".join(data[outer_start:stop].decode("utf-8", "replace").split())
    return (outer_start, -node.end_byte, key, _text(caps["name"][0], data), outer_row + 1,
            last_line, doc_row + 1, signature[:SIGNATURE_CHARS])


def _qualify(facts: FileFacts, raw_defs: list[tuple]) -> list[tuple[int, int, int]]:
    """Qualified names from the nesting of definitions (one sweep over sorted ranges); drops
    prototype-looking statements inside function bodies. Returns (start, end, index) ranges
    of the definitions that can own references."""
    raw_defs.sort(key=_START_LONGEST)  # (start, -end): outer definitions first
    # (end byte, kind, qualified, innermost enclosing namespace/class/struct as (kind, name))
    stack: list[tuple[int, str, str, tuple[str, str] | None]] = []
    ranges: list[tuple[int, int, int]] = []
    definitions, found_constructs = facts.definitions, facts.constructs
    last = None
    for start, negative_end, key, name_bytes, line, end_line, doc, signature in raw_defs:
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
        scope = stack[-1][3] if stack else None
        if kind == "function" and ((scope and scope[0] != "namespace") or "::" in raw):
            kind = "method"
        qualified = f"{scope[1]}::{raw}" if scope else raw
        index = len(definitions)
        definitions.append(Definition(kind, raw.rsplit("::", 1)[-1], qualified, line, end_line,
                                      doc, signature, key.startswith("declaration")))
        end = -negative_end
        if kind != "namespace":
            ranges.append((start, end, index))
        if "__global__" in signature:
            found_constructs.append((index, "cuda kernel", line))
        stack.append((end, kind, qualified, (kind, qualified) if kind in SCOPE_KINDS else scope))
    return ranges


_START_LONGEST = itemgetter(0, 1)


def _add_pragma(caps, refs: list, language: str, data: bytes) -> None:
    node = caps["pragma"][0]
    text = _text(node, data).decode()
    if language == "fortran":
        lowered = text.lstrip().lower()
        if not (lowered.startswith(("!$omp", "!$acc"))):
            return
        text = lowered[2:]
    elif _text(caps["directive"][0], data) != b"#pragma":
        return
    refs.append((node.start_byte, "pragma", text.encode()))


def _attribute(facts: FileFacts, def_nodes, refs, data: bytes) -> None:
    """Give every reference its innermost enclosing definition (one sweep over sorted ranges)."""
    refs.sort(key=_POSITION)
    stack: list[tuple[int, int, int]] = []  # (start, end, index) of the open definitions
    next_def, def_count = 0, len(def_nodes)
    next_start = def_nodes[0][0] if def_nodes else _END
    owner, owner_end = -1, _END  # innermost open definition and where it ends
    seen: set[tuple[int, str, bytes]] = set()
    names = [d.name for d in facts.definitions]
    references, found_constructs = facts.references, facts.constructs
    named_types, named_calls = _named["type"], _named["call"]
    line, line_byte = 1, 0  # line number at line_byte: refs come in byte order
    for position, kind, text in refs:
        if position >= next_start:
            while next_def < def_count and def_nodes[next_def][0] <= position:
                candidate = def_nodes[next_def]
                while stack and stack[-1][1] <= candidate[0]:
                    stack.pop()
                stack.append(candidate)
                next_def += 1
            next_start = def_nodes[next_def][0] if next_def < def_count else _END
            owner_end = -1  # look again below
        if position >= owner_end:
            while stack and stack[-1][1] <= position:
                stack.pop()
            owner, owner_end = (stack[-1][2], stack[-1][1]) if stack else (-1, _END)
        key = (owner, kind, text)
        if key in seen:
            continue
        seen.add(key)
        if kind == "type" or kind == "call":
            known = named_types if kind == "type" else named_calls
            named = known.get(text, _UNKNOWN)
            if named is _UNKNOWN:
                named = _name_of(kind, text, known)
            if named is None:
                continue
            qualified, name, construct = named
            if owner >= 0 and name == names[owner]:
                continue
            references.append((owner, kind, name, qualified))
            if construct:
                line += data.count(b"\n", line_byte, position)
                line_byte = position
                found_constructs.append((owner, construct, line))
            continue
        line += data.count(b"\n", line_byte, position)
        line_byte = position
        _record(facts, owner, kind, text.decode(errors="replace"), line)


_POSITION = itemgetter(0)
_END = 1 << 62  # past any byte
_UNKNOWN = object()
# text of a call or type use -> (qualified name, name, construct or None), or None for no
# name: names repeat within and across files, so each distinct text is worked out once
_named: dict[str, dict[bytes, tuple[str, str, str | None] | None]] = {"type": {}, "call": {}}
_NAMED_MAX = 1 << 17


def _name_of(kind: str, text: bytes, known: dict) -> tuple[str, str, str | None] | None:
    """Work out and remember what a call or type use names (see ``_named``)."""
    qualified = strip_templates(text.decode(errors="replace"))
    name = qualified.rsplit("::", 1)[-1]
    if not name:
        found = None
    else:
        found = (qualified, name, constructs.call_construct(qualified, name) if kind == "call"
                 else constructs.type_construct(name))
    if len(known) >= _NAMED_MAX:
        known.clear()
    known[text] = found
    return found


def _record(facts: FileFacts, owner: int, kind: str, text: str, line: int) -> None:
    """A pragma, base class or kernel launch at 1-based ``line``."""
    if kind == "pragma":
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
        facts.constructs.append((owner, "cuda kernel launch", line))
