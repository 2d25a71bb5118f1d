"""Shared pieces of the ``ellora lsp`` tests: the server command, a pytest-lsp client, and
small helpers that speak plain LSP to it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from conftest import EXAMPLES
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

SERVER = [sys.executable, "-m", "ellora.agents.cli.main", "lsp"]
# the verified transformation path with the least measuring that still exercises every node
LEAN_AGENT = {"agent": {"timing_size": 100_000, "timing_repeats": 1, "min_timing_s": 0.0,
                        "test_sizes": [0, 7, 1001],
                        "threads": [2], "race_check_repeats": 0, "min_speedup": 0.0}}
TITLES = ["Port to Kokkos", "Parallelize with OpenMP", "Parallelize with MPI", "Port to CUDA",
          "Explain this code", "Optimize (profile-guided)"]


def ellora_client() -> LanguageClient:
    """pytest-lsp's client, with one converter fix: lsprotocol reads any ``CodeAction`` that
    carries a ``command`` as a bare ``Command`` (it only checks that the key exists); editors
    tell them apart by the type of ``command``, and so does this client."""

    def converter():
        converter = default_converter()

        def action_or_command(data: dict, _: type):
            kind = types.Command if isinstance(data.get("command"), str) else types.CodeAction
            return converter.structure(data, kind)

        converter.register_structure_hook(types.Command | types.CodeAction, action_or_command)
        return converter

    client = LanguageClient(converter_factory=converter)
    register_lsp_features(client)
    return client


async def start_session(client: LanguageClient, root: Path, options: dict | None) -> None:
    """initialize + initialized as VS Code would (its published client capabilities)."""
    client.initialize_result = await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri(),
        initialization_options=options))


def open_document(client: LanguageClient, path: Path, text: str | None = None,
                  language: str = "cpp") -> str:
    """didOpen ``path`` (its text on disk unless given); returns the URI."""
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id=language, version=1,
        text=path.read_text() if text is None else text)))
    return uri


def copy_saxpy(folder: Path) -> Path:
    for name in ("saxpy.cpp", "saxpy.harness.cpp"):
        shutil.copy(EXAMPLES / name, folder / name)
    return folder / "saxpy.cpp"


async def actions_at(client, uri, start, end=None, only=None):
    end = end or start
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri),
        range=types.Range(types.Position(*start), types.Position(*end)),
        context=types.CodeActionContext(diagnostics=[], only=only)))


def processes_mentioning(needle: str) -> list[int]:
    """Live processes (other than this one) whose environment contains ``needle``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            environ = (entry / "environ").read_bytes()
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X") and needle.encode() in environ:
            found.append(int(entry.name))
    return found
