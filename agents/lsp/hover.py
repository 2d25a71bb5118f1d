"""Hover over Kokkos/MPI/OpenMP API names: signature, documentation and where it is declared.

The seam is :class:`HoverSource` (``lookup(name, qualifier) -> list[ApiEntry]``). Two sources:

- :class:`HeaderIndex`: tree-sitter over the installed headers (Kokkos, ``mpi.h``,
  ``omp.h``), built once in the background and cached by file size and mtime;
- :class:`RetrieverHover`: any knowledge-graph retriever with
  ``retrieve(query, k, filters) -> [snippet(repository, path, lines, text, score)]``, falling
  back to the header index when it finds nothing.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)
_DESCEND = {
    "translation_unit",
    "declaration_list",
    "linkage_specification",
    "preproc_if",
    "preproc_ifdef",
    "preproc_else",
    "preproc_elif",
    "field_declaration_list",
    "ERROR",
}
_DECLARATIONS = {"function_definition", "declaration", "field_declaration"}
_NAME_TYPES = {"identifier", "field_identifier", "qualified_identifier", "template_function"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMMENT_MARKS = re.compile(r"^\s*(/\*\*?|\*/|\*|///?|!<)\s?")
_DOXYGEN_WORD = re.compile(r"\\[cp] (\w+)")
# attribute macros after a C prototype (``(void) __GOMP_NOTHROW;``) that defeat the parser
_TRAILING_MACRO = re.compile(r"\)(\s*)(__[A-Z][A-Z0-9_]*(?:\s*\([^()]*\))?)(?=\s*[;{])")
_BACKEND_FILE = re.compile(
    r"Kokkos_(Cuda|HIP|HPX|SYCL|OpenMPTarget|Threads|Serial|OpenMP|"
    r"OpenACC)\b"
)


@dataclass(frozen=True)
class ApiEntry:
    """One documented API name."""

    name: str
    qualified: str
    kind: str  # function | type
    signature: str
    doc: str
    path: str
    line: int


class HoverSource(Protocol):
    def lookup(self, name: str, qualifier: str | None) -> list[ApiEntry]: ...


def _public(qualified: str, name: str) -> bool:
    if name.startswith(("MPI_", "omp_")):
        return True
    parts = qualified.split("::")
    return parts[0] == "Kokkos" and "Impl" not in parts and not name.startswith("_")


def _clean_comment(raw: str) -> str:
    lines = [
        _COMMENT_MARKS.sub("", line).rstrip().rstrip("*/").rstrip() for line in raw.splitlines()
    ]
    text = "\n".join(line.replace("\\brief ", "") for line in lines).strip()
    text = text.replace("\\code", "```cpp").replace("\\endcode", "```")
    text = _DOXYGEN_WORD.sub(r"`\1`", text)[:1200]
    return text + "\n```" if text.count("```") % 2 else text


def _doc_before(node) -> str:
    comments, current = [], node.prev_sibling
    line = node.start_point[0]
    while current is not None and current.type == "comment" and current.end_point[0] >= line - 1:
        comments.insert(0, current.text.decode(errors="replace"))
        line, current = current.start_point[0], current.prev_sibling
    return _clean_comment("\n".join(comments))


def _declarator_name(node) -> str | None:
    """The declared function's name, following pointer/reference declarators."""
    current = node.child_by_field_name("declarator")
    while current is not None:
        if current.type == "function_declarator":
            name = current.child_by_field_name("declarator")
            if name is not None and name.type in _NAME_TYPES:
                return name.text.decode(errors="replace").split("::")[-1].split("<")[0]
            return None
        current = current.child_by_field_name("declarator")
    return None


def _signature(node, outer) -> str:
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None else node.end_byte
    text = outer.text[: end - outer.start_byte].decode(errors="replace")
    return " ".join(text.split())[:400]


def _entries_in(node, scope: list[str], path: str, found: list[ApiEntry], outer=None) -> None:
    for child in node.named_children:
        kind = child.type
        if kind in _DESCEND:
            _entries_in(child, scope, path, found)
        elif kind == "namespace_definition":
            name = child.child_by_field_name("name")
            body = child.child_by_field_name("body")
            if body is not None:
                extra = name.text.decode().split("::") if name is not None else []
                _entries_in(body, scope + extra, path, found)
        elif kind == "template_declaration":
            _entries_in(child, scope, path, found, outer=outer or child)
        elif kind in _DECLARATIONS:
            declared_type = child.child_by_field_name("type")
            if declared_type is not None and declared_type.type in (
                "class_specifier",
                "struct_specifier",
            ):
                _add_type(declared_type, scope, path, found, outer or child)
            else:
                _add_function(child, scope, path, found, outer or child)
        elif kind in ("class_specifier", "struct_specifier"):
            _add_type(child, scope, path, found, outer or child)


def _add_function(node, scope, path, found, outer) -> None:
    name = _declarator_name(node)
    if name is None:
        return
    qualified = "::".join([*scope, name])
    if _public(qualified, name):
        found.append(
            ApiEntry(
                name,
                qualified,
                "function",
                _signature(node, outer),
                _doc_before(outer),
                path,
                outer.start_point[0] + 1,
            )
        )


def _add_type(node, scope, path, found, outer) -> None:
    name_node, body = node.child_by_field_name("name"), node.child_by_field_name("body")
    if name_node is None or body is None:
        return
    name = name_node.text.decode(errors="replace").split("<")[0]
    qualified = "::".join([*scope, name])
    if _public(qualified, name):
        found.append(
            ApiEntry(
                name,
                qualified,
                "type",
                _signature(node, outer),
                _doc_before(outer),
                path,
                outer.start_point[0] + 1,
            )
        )
        _entries_in(body, scope + [name], path, found)


def index_header(path: str) -> list[ApiEntry]:
    """Public API entries declared in one header."""
    from ellora.tools.loops.cpp import parse as parse_cpp

    try:
        source = Path(path).read_text(errors="replace")
    except OSError:
        return []
    source = _TRAILING_MACRO.sub(lambda m: ")" + m.group(1) + " " * len(m.group(2)), source)
    found: list[ApiEntry] = []
    _entries_in(parse_cpp(source).root_node, [], path, found)
    return found


class HeaderIndex:
    """API names from installed headers, by simple name."""

    def __init__(self, entries: list[ApiEntry]):
        self.by_name: dict[str, list[ApiEntry]] = {}
        for entry in entries:
            self.by_name.setdefault(entry.name, []).append(entry)

    @classmethod
    def load_or_build(cls, patterns: list[str], cache_dir: Path) -> HeaderIndex:
        """Index the headers matching ``patterns``, reusing the cache when none changed."""
        files = sorted({p for pattern in patterns for p in glob.glob(pattern)})
        stamp = json.dumps([(f, Path(f).stat().st_size, Path(f).stat().st_mtime_ns) for f in files])
        cache = cache_dir / f"hover-{hashlib.sha256(stamp.encode()).hexdigest()[:16]}.json"
        if cache.is_file():
            try:
                return cls([ApiEntry(**item) for item in json.loads(cache.read_text())])
            except (ValueError, TypeError):
                pass
        entries = [entry for path in files for entry in index_header(path)]
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps([asdict(entry) for entry in entries]))
        return cls(entries)

    def lookup(self, name: str, qualifier: str | None) -> list[ApiEntry]:
        entries = self.by_name.get(name, [])
        if qualifier:
            scoped = [e for e in entries if e.qualified.endswith(f"{qualifier}::{name}")]
            entries = scoped or entries
        unique = {entry.signature or entry.qualified: entry for entry in reversed(entries)}
        return sorted(unique.values(), key=_rank)[:3]


def _rank(entry: ApiEntry) -> tuple:
    """Core headers before backend ones, user-level overloads before team-level ones."""
    return (
        bool(_BACKEND_FILE.search(entry.path)),
        not entry.doc,
        "Impl::" in entry.signature,
        entry.kind != "function",
        entry.path,
        entry.line,
    )


class RetrieverHover:
    """The knowledge-graph retriever behind the hover seam: snippets that define or mention
    the name, with repository, path and line; the header index when it has none."""

    def __init__(self, retriever: Any, fallback: HoverSource | None = None, max_lines: int = 30):
        self.retriever = retriever
        self.fallback = fallback
        self.max_lines = max_lines

    def lookup(self, name: str, qualifier: str | None) -> list[ApiEntry]:
        query = f"{qualifier}::{name}" if qualifier else name
        found = []
        for snippet in self._retrieve(query):
            symbols = [str(s).split("::")[-1] for s in getattr(snippet, "symbols", [])]
            if name not in symbols and name not in snippet.text:
                continue
            text = "\n".join(snippet.text.splitlines()[: self.max_lines])
            found.append(
                ApiEntry(
                    name,
                    query,
                    "snippet",
                    "",
                    text,
                    f"{snippet.repository}: {snippet.path}",
                    int(snippet.start),
                )
            )
        if found or self.fallback is None:
            return found
        return self.fallback.lookup(name, qualifier)

    def _retrieve(self, query: str) -> list[Any]:
        """Graph-only retrieval when the retriever offers it: a hover names an exact symbol,
        and embedding the query would load a neural model into the language server."""
        try:
            return self.retriever.retrieve(query, k=3, mode="graph")
        except TypeError:  # a retriever with only retrieve(query, k, filters)
            return self.retriever.retrieve(query, k=3)


def create_hover_source(settings: Any, cache_dir: Path) -> HoverSource:
    """The knowledge graph (when an index exists at ``index.path``) over the header index."""
    headers = HeaderIndex.load_or_build(list(settings.lsp.hover_headers), cache_dir)
    try:
        from ellora.knowledge_graph import open_retriever

        retriever = open_retriever(settings)
    except Exception as error:  # noqa: BLE001 - a broken index must not take hover down
        log.warning("code index not used for hover: %s", error)
        return headers
    return RetrieverHover(retriever, headers) if retriever is not None else headers


def word_at(line: str, character: int) -> tuple[str, str | None, int, int] | None:
    """``(name, qualifier, start, end)`` of the identifier at ``character`` in ``line``."""
    for match in _IDENTIFIER.finditer(line):
        if match.start() <= character <= match.end() and match.end() > match.start():
            qualifier = re.search(r"((?:[A-Za-z_]\w*::)+)$", line[: match.start()])
            return (
                match.group(),
                qualifier.group(1)[:-2] if qualifier else None,
                match.start(),
                match.end(),
            )
    return None


def hover_markdown(entries: list[ApiEntry]) -> str:
    """The hover text: signature in a code block, the doc, the declaration's location."""
    parts = []
    for entry in entries:
        if entry.signature:
            parts.append(f"```cpp\n{entry.signature}\n```")
        if entry.doc:
            parts.append(entry.doc if entry.kind != "snippet" else f"```cpp\n{entry.doc}\n```")
        location = f"{entry.path}:{entry.line}"
        link = f"file://{entry.path}#L{entry.line}" if entry.path.startswith("/") else None
        parts.append(
            f"*{entry.qualified}* — [{location}]({link})"
            if link
            else f"*{entry.qualified}* — {location}"
        )
    return "\n\n---\n\n".join(parts)
