"""Compiler diagnostics of the saved buffer: one sandbox build, parsed for the editor.

The file is built exactly as the agents build code (same sandbox, same recipe for the
programming model it uses, the user's local headers next to it), then the compiler output
is parsed with :func:`ellora.tools.diagnostics.parse_diagnostics` (gcc, clang, nvcc).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ellora.agents.lsp.actions import programming_model_of
from ellora.tools.diagnostics import Diagnostic, parse_diagnostics

SEVERITIES = {"error": 1, "warning": 2, "note": 3}


class DiagnosticsBuilder:
    """Builds one file at a time in the sandbox; toolchain detected once per settings."""

    def __init__(self, settings: Any):
        self.settings = settings
        self._lock = threading.Lock()
        self._sandbox: Any = None
        self._toolchain: Any = None

    def _tools(self) -> tuple[Any, Any]:
        from ellora.agents.services import create_task_sandbox
        from ellora.tools.toolchain import detect_toolchain

        if self._sandbox is None:
            self._sandbox = create_task_sandbox(self.settings)
            self._toolchain = detect_toolchain(self._sandbox, settings=self.settings.toolchain)
        return self._sandbox, self._toolchain

    def build(self, path: Path, text: str) -> tuple[list[Diagnostic], str]:
        """Diagnostics of ``text`` as the content of ``path`` and the compiler that produced
        them; raises ``ToolchainMissing`` when the file's programming model cannot be built."""
        from ellora.sandbox import Limits
        from ellora.tools.verify import VerifySpec, build_variant, prepare_workspace

        with self._lock:
            sandbox, toolchain = self._tools()
            recipe = toolchain.recipe(programming_model_of(text))
            spec = VerifySpec(path.name, text, text, str(path.parent), None)
            limits = self.settings.sandbox
            workspace = prepare_workspace(sandbox, spec)
            try:
                outcome = build_variant(
                    sandbox,
                    workspace,
                    spec,
                    "original",
                    recipe,
                    Limits(
                        wall_s=limits.wall_s,
                        cpu_s=limits.cpu_s,
                        memory_mb=limits.memory_mb,
                        procs=limits.procs,
                    ),
                )
            finally:
                sandbox.discard_workspace(workspace)
        own_names = {f"original{path.suffix or '.cpp'}", path.name}
        found = [
            d
            for d in parse_diagnostics(outcome.log)
            if Path(d.file).name in own_names or d.file == "<link>"
        ]
        return found, Path(outcome.command[0] if outcome.command else recipe.compiler).name


def to_lsp(diagnostics: list[Diagnostic], lines: list[str], compiler: str) -> list[Any]:
    """LSP diagnostics: 1-based compiler lines and columns -> 0-based ranges to the line end."""
    from lsprotocol import types

    found = []
    for diagnostic in diagnostics:
        row = max(diagnostic.line - 1, 0)
        line = lines[row] if row < len(lines) else ""
        column = min(max(diagnostic.column - 1, 0), len(line.rstrip("\n")))
        end = max(len(line.rstrip("\n")), column)
        found.append(
            types.Diagnostic(
                range=types.Range(types.Position(row, column), types.Position(row, end)),
                severity=types.DiagnosticSeverity(SEVERITIES.get(diagnostic.severity, 3)),
                source=f"ellora ({compiler})",
                message=diagnostic.message,
            )
        )
    return found
