"""Plain-text rendering of index summaries, query results and statistics."""

from __future__ import annotations

from typing import Any

PREVIEW_LINES = 10


def render_summary(summary: dict[str, Any]) -> str:
    """One ``add`` as a few lines: counts, skips by reason, seconds per stage."""
    skipped = summary["skipped"]
    skipped_text = (", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
                    if skipped else "none")
    seconds = ", ".join(f"{stage} {value:.1f}s" for stage, value in summary["seconds"].items())
    return "\n".join([
        f"Indexed {summary['repository']} from {summary['origin']}",
        (f"  files: {summary['files_seen']} seen, {summary['parsed']} parsed "
        f"({summary['lines_parsed']} lines), {summary['unchanged']} unchanged, "
        f"{summary['removed']} removed"),
        f"  skipped: {skipped_text}",
        f"  chunks: {summary['chunks_added']} added",
        f"  time: {seconds or 'nothing to do'}",
    ])


def render_snippets(query: str, snippets: list[dict[str, Any]], preview: int = PREVIEW_LINES
                    ) -> str:
    """Numbered results, each with its source, score, reasons and the first lines of code."""
    if not snippets:
        return f"No results for {query!r}."
    parts = [f"Results for {query!r}:"]
    for number, snippet in enumerate(snippets, start=1):
        licence = f"  [{snippet['license']}]" if snippet.get("license") else ""
        parts.append(f"\n{number}. {snippet['repository']} {snippet['path']}:{snippet['lines']}"
                     f"  score {snippet['score']:.3f}{licence}")
        parts.append(f"   why: {'; '.join(snippet['why'])}")
        lines = snippet.get("text", "").splitlines()
        for line in lines[:preview]:
            parts.append(f"   | {line}")
        if len(lines) > preview:
            parts.append(f"   | ... ({len(lines) - preview} more lines)")
    sources = sorted({f"{s['repository']} {s['path']}:{s['lines']}" for s in snippets})
    parts += ["", "Sources:", *(f"  {source}" for source in sources)]
    return "\n".join(parts)


def render_stats(stats: dict[str, dict[str, Any]], location: str, disk_bytes: int) -> str:
    """A table of files, lines, chunks, nodes and edges per repository, with totals."""
    header = f"{'repository':<18}{'files':>8}{'lines':>10}{'chunks':>8}{'nodes':>9}{'edges':>9}"
    rows = [header]
    totals = {"files": 0, "lines": 0, "chunks": 0, "nodes": 0, "edges": 0}
    for name, values in sorted(stats.items()):
        rows.append(f"{name:<18}" + "".join(
            f"{values.get(key, 0):>{width}}" for key, width in
            (("files", 8), ("lines", 10), ("chunks", 8), ("nodes", 9), ("edges", 9)))
            + f"  {values.get('origin', '')}")
        for key in totals:
            totals[key] += values.get(key, 0)
    rows.append(f"{'total':<18}" + "".join(
        f"{totals[key]:>{width}}" for key, width in
        (("files", 8), ("lines", 10), ("chunks", 8), ("nodes", 9), ("edges", 9))))
    rows.append(f"\nIndex: {location} ({disk_bytes / 1e6:.1f} MB on disk)")
    return "\n".join(rows)
