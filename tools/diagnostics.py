"""Compiler diagnostics (gcc, clang, nvcc) parsed into structured records."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

# gcc/clang: "file:line:col: error: message"; nvcc: "file(line): error: message"
_GCC_LIKE = re.compile(
    r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<column>\d+):)?\s*"
    r"(?P<severity>fatal error|error|warning|note):\s*(?P<message>.*)$"
)
_NVCC = re.compile(
    r"^(?P<file>[^(\n]+)\((?P<line>\d+)\):\s*(?P<severity>error|warning)[^:]*:\s*(?P<message>.*)$"
)
_LINKER = re.compile(r"^(?:/usr/bin/ld|ld|collect2)[^:]*:\s*(?P<message>.*)$")


@dataclass(frozen=True)
class Diagnostic:
    """One compiler message tied to a source position."""

    file: str
    line: int
    column: int
    severity: str
    message: str

    def to_dict(self) -> dict:
        return asdict(self)

    def render(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"


def parse_diagnostics(output: str) -> list[Diagnostic]:
    """Extract diagnostics from compiler output; linker errors get line 0."""
    found: list[Diagnostic] = []
    for raw in output.splitlines():
        line = raw.strip()
        match = _GCC_LIKE.match(line) or _NVCC.match(line)
        if match:
            severity = "error" if match["severity"] == "fatal error" else match["severity"]
            column = int(match.groupdict().get("column") or 0)
            found.append(
                Diagnostic(
                    match["file"], int(match["line"]), column, severity, match["message"].strip()
                )
            )
            continue
        linker = _LINKER.match(line)
        if linker and ("undefined reference" in line or "error" in line):
            found.append(Diagnostic("<link>", 0, 0, "error", linker["message"].strip()))
    return found


def errors_only(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]
