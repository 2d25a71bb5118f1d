"""ChatKokkos's test YAML (a list of {Context, Question}): answers generated for human review.

There is no automatic score (ChatKokkos's own ``test`` writes answers for rating); a run stores
one record per question and ``ellora eval report`` writes ``review.md`` (question, context,
answer and rating fields) and ``ratings.csv`` to fill in; once filled, the report includes
the mean rating per context.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

SYSTEM = ("You are an expert in the Kokkos programming model. Answer the question; put code "
          "in ```cpp blocks.")
RATING_FIELDS = ("key", "context", "rating_1_to_5", "compiles_yes_no", "notes")


@dataclass
class ReviewItem:
    """One question to answer."""

    key: str
    context: str
    question: str


def load_review_items(path: Path) -> list[ReviewItem]:
    """Read the YAML; ValueError says what is wrong with it."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) and "Question" in d
                                             for d in data):
        raise ValueError(f"{path}: expected a list of {{Context, Question}} entries")
    return [ReviewItem(f"q{i:03d}", str(d.get("Context", "")).strip(), str(d["Question"]).strip())
            for i, d in enumerate(data)]


def review_messages(item: ReviewItem, template: str | None = None) -> list:
    """Chat messages for one question; ``template`` (Jinja, with ``context``, ``question`` and
    an empty ``answer``) replaces the default prompt, e.g. ChatKokkos's prompt_template.txt."""
    from langchain_core.messages import HumanMessage, SystemMessage

    if template:
        import jinja2

        text = jinja2.Template(template).render(context=item.context, question=item.question,
                                                answer="")
        return [HumanMessage(text.rstrip())]
    context = f"Context: {item.context}\n\n" if item.context else ""
    return [SystemMessage(SYSTEM), HumanMessage(f"{context}Question: {item.question}")]


def answer_all(items: list[ReviewItem], model, done: set[str], on_result,
               template: str | None = None, batch_size: int = 8) -> None:
    """Ask ``model`` every question not in ``done``, in batches; one row per answer."""
    pending = [item for item in items if item.key not in done]
    for start in range(0, len(pending), batch_size):
        batch = pending[start:start + batch_size]
        began = time.perf_counter()
        replies = model.batch([review_messages(i, template) for i in batch],
                              config={"max_concurrency": batch_size}, return_exceptions=True)
        wall = (time.perf_counter() - began) / len(batch)
        for item, reply in zip(batch, replies):
            row = {"key": item.key, "context": item.context, "question": item.question}
            if isinstance(reply, Exception):
                row.update(answer=None, error=f"model error: {reply}"[:2000])
            else:
                usage = getattr(reply, "usage_metadata", None) or {}
                row.update(answer=str(reply.content),
                           input_tokens=int(usage.get("input_tokens", 0)),
                           output_tokens=int(usage.get("output_tokens", 0)))
            row["generation_s"] = round(wall, 3)
            on_result(row)


def write_review(records: list[dict], out_dir: Path) -> list[Path]:
    """review.md for reading and ratings.csv to fill in (kept if it already exists)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["# Answers for review", ""]
    for row in sorted(records, key=lambda r: r["key"]):
        lines += [f"## {row['key']}: {row['context']}", "", "**Question**", "",
                  row["question"], "", "**Answer**", "",
                  row.get("answer") or f"_no answer: {row.get('error', '')}_", "",
                  "Rating (1-5): ___   Compiles (yes/no): ___   Notes: ___", ""]
    review = out_dir / "review.md"
    review.write_text("\n".join(lines))
    ratings = out_dir / "ratings.csv"
    if not ratings.exists():
        with open(ratings, "w", newline="") as handle:
            writer = csv.DictWriter(handle, RATING_FIELDS)
            writer.writeheader()
            for row in sorted(records, key=lambda r: r["key"]):
                writer.writerow({"key": row["key"], "context": row["context"]})
    return [review, ratings]


def rating_summary(ratings_csv: Path) -> dict:
    """Mean rating per context from a filled ratings.csv (unfilled rows are skipped)."""
    if not ratings_csv.is_file():
        return {}
    scores: dict[str, list[float]] = {}
    with open(ratings_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            value = (row.get("rating_1_to_5") or "").strip()
            if value:
                scores.setdefault(row.get("context") or "", []).append(float(value))
    return {context: {"rated": len(v), "mean_rating": sum(v) / len(v)}
            for context, v in scores.items()}
