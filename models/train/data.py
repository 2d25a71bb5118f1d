"""Training and test data: ChatKokkos JSON and test YAML, hpc-instruct rows, plain JSONL.

Every loader returns :class:`~ellora.models.prompt_format.Example` objects (question, context,
answer). Bad input raises :class:`DataError` with the file and the record at fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ellora.models.prompt_format import Example

# Column pairs a JSONL row may use, tried in order: (question, answer[, context]).
_JSONL_KEYS = (
    ("question", "answer", "context"),
    ("problem statement", "solution", None),
    ("instruction", "output", "input"),
    ("prompt", "completion", None),
)


class DataError(ValueError):
    """A data file cannot be read as the format asked for; the message names file and record."""


def load_examples(paths: Iterable[str | Path], data_format: str = "auto") -> list[Example]:
    """All examples of ``paths`` in order; ``data_format`` auto-detects per file."""
    examples: list[Example] = []
    for path in map(Path, paths):
        if not path.is_file():
            raise DataError(f"data file {path} not found")
        examples.extend(_load_one(path, data_format))
    if not examples:
        raise DataError("no examples in the data files: give at least one non-empty file")
    return examples


def _load_one(path: Path, data_format: str) -> list[Example]:
    if data_format in ("chatkokkos", "hpc-instruct") and path.suffix == ".json":
        return [_example(row, path, i) for i, row in enumerate(_json_list(path))]
    if path.suffix in (".yaml", ".yml"):
        return load_test_yaml(path)
    if path.suffix == ".json":
        return [_example(row, path, i) for i, row in enumerate(_json_list(path))]
    return [_example(row, path, i) for i, row in enumerate(_jsonl_rows(path))]


def _json_list(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(data, list):
        raise DataError(f"{path} must hold a JSON list of records")
    return data


def _jsonl_rows(path: Path) -> Iterator[Any]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path} line {number} is not JSON ({exc})") from exc


def _example(row: Any, path: Path, index: int) -> Example:
    """A record as an Example, whichever known column names it uses."""
    if not isinstance(row, dict):
        raise DataError(f"{path} record {index} is not an object")
    for question_key, answer_key, context_key in _JSONL_KEYS:
        if question_key in row and answer_key in row:
            context = row.get(context_key, "") if context_key else ""
            return Example(
                question=str(row[question_key]),
                answer=str(row[answer_key]),
                context=str(context or ""),
            )
    known = ", ".join(f"{q}/{a}" for q, a, _ in _JSONL_KEYS)
    raise DataError(f"{path} record {index} has none of the column pairs {known}")


def load_test_yaml(path: str | Path) -> list[Example]:
    """ChatKokkos test questions: a YAML list of {Context, Question} (answers left empty)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(f"{path} is not valid YAML ({exc})") from exc
    if not isinstance(data, list):
        raise DataError(f"{path} must hold a YAML list of {{Context, Question}} entries")
    examples = []
    for index, entry in enumerate(data):
        if not isinstance(entry, dict) or "Question" not in entry:
            raise DataError(f"{path} entry {index} has no Question")
        examples.append(
            Example(
                question=str(entry["Question"]).rstrip("\n"),
                context=str(entry.get("Context") or "").rstrip("\n"),
                answer=str(entry.get("Answer") or "").rstrip("\n"),
            )
        )
    return examples


def write_jsonl(examples: Iterable[Example], path: str | Path) -> int:
    """Write examples as ChatKokkos-keyed JSONL; returns how many were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for example in examples:
            record = {
                "question": example.question,
                "context": example.context,
                "answer": example.answer,
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
