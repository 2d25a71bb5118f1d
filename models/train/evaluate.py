"""``verify`` and ``test``, as ChatHPC does them, plus ``merge``.

``verify`` replays the training set through the model (greedy) and counts answers that match
exactly (after stripping each line, as ChatHPC's ``ignore_minor``) and how similar the others
are (difflib ratio). ``test`` generates answers for a test YAML into JSON and a Markdown file
for people to rate: there is no automatic score for those.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ellora.models.hf_load import (
    attach_adapter,
    load_causal_lm,
    load_tokenizer,
    model_directory,
    pick_device,
    pick_dtype,
    resolve_model_source,
)
from ellora.models.prompt_format import Example, PromptFormat, load_prompt_format
from ellora.models.train.encode import encode_prompt
from ellora.models.train.sft import ADAPTER_META

SIMILAR = 0.9


@dataclass
class Loaded:
    """A model ready to answer: base (+ adapter), tokenizer, prompt format."""

    model: Any
    tokenizer: Any
    fmt: PromptFormat
    label: str


def adapter_meta(adapter: str | Path | None) -> dict[str, Any]:
    """What training recorded next to an adapter (base model, prompt format); {} if none."""
    if adapter is None:
        return {}
    path = Path(adapter) / ADAPTER_META
    return json.loads(path.read_text()) if path.is_file() else {}


def load_model(
    base_model: str | None, adapter: str | None, prompt_format: str | None, device: str = "auto"
) -> Loaded:
    """Base model (default: the adapter's base) with the adapter, in its prompt format."""
    meta = adapter_meta(adapter)
    model_dir = model_directory(resolve_model_source(base_model or meta.get("base_model")))
    where = pick_device(device)
    model = load_causal_lm(model_dir, where, pick_dtype("auto", where))
    if adapter is not None:
        model = attach_adapter(model, adapter)
    fmt = load_prompt_format(prompt_format or meta.get("prompt_format") or "chat")
    label = f"{model_dir.name}+{Path(adapter).name}" if adapter else model_dir.name
    return Loaded(model=model, tokenizer=load_tokenizer(model_dir), fmt=fmt, label=label)


def generate(loaded: Loaded, example: Example, max_new_tokens: int) -> str:
    """Greedy answer to ``example``, cut at the format's stop strings."""
    import torch
    from ellora.models.transformers_provider import _cut_at_stop, _stop_ids

    ids = encode_prompt(loaded.tokenizer, loaded.fmt, example)
    stops = {"stop_strings": list(loaded.fmt.stop), "tokenizer": loaded.tokenizer}
    stops = stops if loaded.fmt.stop else {}  # end as soon as the format's next turn starts
    tensor = torch.tensor([ids], device=loaded.model.device)
    with torch.inference_mode():
        output = loaded.model.generate(
            input_ids=tensor,
            attention_mask=torch.ones_like(tensor),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=loaded.tokenizer.pad_token_id,
            eos_token_id=_stop_ids(loaded.tokenizer),
            **stops,
        )
    text = loaded.tokenizer.decode(output[0][len(ids) :], skip_special_tokens=True)
    return _cut_at_stop(text, list(loaded.fmt.stop))


def ignore_minor(text: str) -> str:
    """Text with each line stripped and the ends trimmed (ChatHPC's comparison)."""
    return "\n".join(line.strip() for line in text.strip().splitlines())


@dataclass
class VerifyResult:
    """Exact matches and similarity of replayed training answers."""

    model: str
    total: int = 0
    exact: int = 0
    similar: int = 0
    mean_similarity: float = 0.0
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def mismatches(self) -> int:
        """Answers that are not exact matches (ChatHPC's 'response errors')."""
        return self.total - self.exact


def verify(loaded: Loaded, examples: list[Example], max_new_tokens: int) -> VerifyResult:
    """Replay ``examples`` and compare each answer with the reference."""
    from tqdm.auto import tqdm

    result = VerifyResult(model=loaded.label)
    for example in tqdm(examples, desc="verify", unit="example"):
        response = generate(loaded, example, max_new_tokens)
        ratio = difflib.SequenceMatcher(
            None, ignore_minor(example.answer), ignore_minor(response)
        ).ratio()
        exact = ignore_minor(example.answer) == ignore_minor(response)
        result.total += 1
        result.exact += int(exact)
        result.similar += int(ratio >= SIMILAR)
        result.items.append(
            {
                "question": example.question,
                "context": example.context,
                "answer": example.answer,
                "response": response,
                "exact": exact,
                "similarity": round(ratio, 4),
            }
        )
    if result.total:
        result.mean_similarity = sum(i["similarity"] for i in result.items) / result.total
    return result


def verify_summary(result: VerifyResult) -> dict[str, Any]:
    """The counts of a verify run, without the items."""
    data = asdict(result)
    data.pop("items")
    data["mismatches"] = result.mismatches
    return data


def answer_tests(loaded: Loaded, examples: list[Example], max_new_tokens: int):
    """Answers for test questions, as records {context, question, response}."""
    from tqdm.auto import tqdm

    return [
        {
            "context": e.context,
            "question": e.question,
            "response": generate(loaded, e, max_new_tokens),
        }
        for e in tqdm(examples, desc="test", unit="question")
    ]


def write_review(records: list[dict[str, Any]], stem: Path, label: str) -> tuple[Path, Path]:
    """Write ``stem.json`` and ``stem.md`` (one section per question, for rating)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps({"model": label, "answers": records}, indent=2))
    lines = [f"# Test answers: {label}", "", "Rate each answer by hand (no automatic score).", ""]
    for number, record in enumerate(records, start=1):
        lines += [
            f"## {number}. {record['context'].strip() or 'Question'}",
            "",
            "**Question**",
            "",
            "```",
            record["question"].strip(),
            "```",
            "",
            "**Answer**",
            "",
            "```",
            record["response"].strip(),
            "```",
            "",
            "Rating: ",
            "",
        ]
    md_path.write_text("\n".join(lines))
    return json_path, md_path


def merge(adapter: str, output: str | Path, base_model: str | None = None) -> Path:
    """Fold the LoRA adapter into the base weights and save a plain model directory."""
    meta = adapter_meta(adapter)
    model_dir = model_directory(resolve_model_source(base_model or meta.get("base_model")))
    model = attach_adapter(load_causal_lm(model_dir, "cpu"), adapter)
    merged = model.merge_and_unload()
    output = Path(output)
    merged.save_pretrained(output)
    load_tokenizer(model_dir).save_pretrained(output)
    (output / "ellora_merged.json").write_text(
        json.dumps({**meta, "adapter": str(adapter)}, indent=2)
    )
    return output
