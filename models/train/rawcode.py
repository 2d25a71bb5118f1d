"""A raw-code data set in the HPC-Coder style: collect C/C++/Fortran files from directories,
drop exact duplicates (SHA-256 of the bytes), files over 1 MB and files under 15 tokens, and
report how many files are left after each filter. Output: JSONL of
``{"path", "sha256", "language", "tokens", "text"}``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = {
    ".c": "c",
    ".h": "c",
    ".cc": "c++",
    ".cpp": "c++",
    ".cxx": "c++",
    ".c++": "c++",
    ".hh": "c++",
    ".hpp": "c++",
    ".hxx": "c++",
    ".h++": "c++",
    ".ipp": "c++",
    ".f": "fortran",
    ".for": "fortran",
    ".ftn": "fortran",
    ".f77": "fortran",
    ".f90": "fortran",
    ".f95": "fortran",
    ".f03": "fortran",
    ".f08": "fortran",
}
MAX_BYTES = 1_000_000
MIN_TOKENS = 15
_CODE_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\S")


def code_tokens(text: str) -> int:
    """Tokens of source code: identifiers, numbers and single punctuation characters."""
    return len(_CODE_TOKEN.findall(text))


@dataclass
class BuildReport:
    """Files left after each filter, in order."""

    found: int = 0
    after_dedup: int = 0
    after_size: int = 0
    after_min_tokens: int = 0
    by_language: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Human-readable counts, one filter per line."""
        removed = self.found - self.after_min_tokens
        share = 100.0 * removed / self.found if self.found else 0.0
        return [
            f"found C/C++/Fortran files: {self.found}",
            f"after SHA-256 de-duplication: {self.after_dedup}",
            f"after dropping files over {MAX_BYTES:,} bytes: {self.after_size}",
            f"after dropping files under {MIN_TOKENS} tokens: {self.after_min_tokens}",
            f"removed: {removed} ({share:.1f}%)",
            "kept by language: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.by_language.items())),
        ]


def source_files(folders: Iterable[str | Path]) -> Iterator[Path]:
    """C/C++/Fortran files under ``folders`` (sorted, symlinks not followed)."""
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise FileNotFoundError(f"source folder {folder} not found")
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in LANGUAGES and path.is_file() and not path.is_symlink():
                yield path


def build_dataset(
    folders: Iterable[str | Path],
    output: str | Path,
    count_tokens: Callable[[str], int] = code_tokens,
    max_bytes: int = MAX_BYTES,
    min_tokens: int = MIN_TOKENS,
) -> BuildReport:
    """Write the filtered files of ``folders`` to ``output`` (JSONL); counts per filter."""
    report = BuildReport()
    seen: set[str] = set()
    with Path(output).open("w", encoding="utf-8") as sink:
        for path in source_files(folders):
            report.found += 1
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            report.after_dedup += 1
            if len(data) > max_bytes:
                continue
            report.after_size += 1
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
            tokens = count_tokens(text)
            if tokens < min_tokens:
                continue
            report.after_min_tokens += 1
            language = LANGUAGES[path.suffix.lower()]
            report.by_language[language] = report.by_language.get(language, 0) + 1
            record = {
                "path": str(path),
                "sha256": digest,
                "language": language,
                "tokens": tokens,
                "text": text,
            }
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    return report
