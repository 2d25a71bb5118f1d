"""What ``ellora lsp`` costs an editor, measured through a real LSP client over stdio:

- ``textDocument/codeAction`` listing latency on a 5,000-line C++ file (p50/p95 round trip),
  with the tree already current and right after an edit (incremental reparse on the request);
- ``textDocument/didChange`` handling per incremental edit (a burst of edits, then one cheap
  request: its extra time over the request alone, divided by the edits), and the handler's own
  share measured in-process (tree edit + pygls' text update);
- resident memory of the idle server once the hover index is loaded.

    python benchmarks/bench_lsp.py [--requests 200] [--edits 500] [--out bench.json]

Prints a Markdown table; ``--out`` also writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

FUNCTION = ("// kernel {i}: scale and shift\nvoid kernel{i}(int n, const double* x, double* y) {{\n"
            "  for (int i = 0; i < n; ++i) {{\n    y[i] = {i}.5 * x[i] + y[i];\n  }}\n}}\n")


def source_of(lines: int) -> str:
    """A C++ file of ``lines`` lines: one small loop kernel every six lines."""
    return "".join(FUNCTION.format(i=i) for i in range(lines // 6 + 1))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Session:
    """One server process and a client talking to it."""

    def __init__(self, folder: Path, text: str):
        self.folder, self.text = folder, text
        self.client = LanguageClient("bench", "1")
        self.uri = (folder / "big.cpp").as_uri()
        self.version = 1

    async def start(self) -> None:
        (self.folder / "big.cpp").write_text(self.text)
        await self.client.start_io(sys.executable, "-m", "ellora.agents.cli.main", "lsp",
                                   "--log-level", "WARNING")
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=self.folder.as_uri()))
        self.client.initialized(types.InitializedParams())
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=self.uri, language_id="cpp", version=self.version, text=self.text)))

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    async def code_actions(self, line: int) -> float:
        """Round-trip seconds of one listing with the cursor inside the loop at ``line``."""
        start = time.perf_counter()
        found = await self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(self.uri),
            range=types.Range(types.Position(line, 6), types.Position(line, 6)),
            context=types.CodeActionContext(diagnostics=[])))
        assert found, f"no actions at line {line}"
        return time.perf_counter() - start

    def edit(self, line: int) -> None:
        """Type one character into the comment on ``line``."""
        self.version += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, 3), types.Position(line, 3)),
                text="x")]))

    async def cheap_request(self) -> float:
        """A hover past the end of the file: answered without touching the tree."""
        start = time.perf_counter()
        await self.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(self.uri), types.Position(10 ** 6, 0)))
        return time.perf_counter() - start

    def rss_mb(self) -> tuple[float, float]:
        status = Path(f"/proc/{self.client._server.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


async def measure(requests: int, edits: int, lines: int) -> dict:
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["XDG_CACHE_HOME"] = str(Path(folder) / "cache")
        session = Session(Path(folder), source_of(lines))
        await session.start()
        loop_lines = [6 * k + 3 for k in range(lines // 6)]
        first = await session.code_actions(loop_lines[0])
        cached = [await session.code_actions(rng.choice(loop_lines)) for _ in range(requests)]
        after_edit = []
        for _ in range(requests):
            session.edit(6 * rng.randrange(lines // 6))
            after_edit.append(await session.code_actions(rng.choice(loop_lines)))
        alone = statistics.median([await session.cheap_request() for _ in range(50)])
        bursts = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(edits // 5):
                session.edit(6 * rng.randrange(lines // 6))
            await session.cheap_request()
            bursts.append((time.perf_counter() - start - alone) / (edits // 5))
        await session.client.text_document_hover_async(types.HoverParams(  # loads the index
            types.TextDocumentIdentifier(session.uri), types.Position(3, 18)))
        await asyncio.sleep(2.0)
        rss, peak = session.rss_mb()
        await session.stop()
    return {"lines": lines, "requests": requests, "edits": edits, "first_listing_ms": first * 1e3,
            "listing_p50_ms": percentile(cached, 0.5) * 1e3,
            "listing_p95_ms": percentile(cached, 0.95) * 1e3,
            "listing_after_edit_p50_ms": percentile(after_edit, 0.5) * 1e3,
            "listing_after_edit_p95_ms": percentile(after_edit, 0.95) * 1e3,
            "did_change_per_edit_ms": statistics.median(bursts) * 1e3,
            "idle_rss_mb": rss, "peak_rss_mb": peak, **in_process_edit_cost(lines, edits)}


def in_process_edit_cost(lines: int, edits: int) -> dict:
    """The didChange handler's own work per edit: tree edit + pygls' text update."""
    from ellora.agents.lsp.documents import SyntaxDocument
    from pygls.workspace.position_codec import PositionCodec
    from pygls.workspace.text_document import TextDocument

    rng = random.Random(2)
    document = TextDocument("file:///big.cpp", source_of(lines), 1)
    syntax, codec = SyntaxDocument("cpp"), PositionCodec()
    syntax.current_tree(document.source)
    tree_s = text_s = 0.0
    for _ in range(edits):
        line = 6 * rng.randrange(lines // 6)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(line, 3), types.Position(line, 3)), text="x")
        start = time.perf_counter()
        syntax.edit(document.source, change, codec)
        middle = time.perf_counter()
        document.apply_change(change)
        tree_s += middle - start
        text_s += time.perf_counter() - middle
    start = time.perf_counter()
    syntax.current_tree(document.source)
    reparse = time.perf_counter() - start
    return {"tree_edit_ms": tree_s / edits * 1e3, "pygls_text_update_ms": text_s / edits * 1e3,
            f"reparse_after_{edits}_edits_ms": reparse * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--edits", type=int, default=500)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.requests, args.edits, args.lines))
    figures["machine"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, " \
                         f"load {os.getloadavg()[0]:.1f}"
    print(f"| ellora lsp, {args.lines}-line C++ file | value |\n|---|---|")
    for key, value in figures.items():
        print(f"| {key} | {value:.2f} |" if isinstance(value, float) else f"| {key} | {value} |")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
