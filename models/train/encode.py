"""Token ids for training: prompt tokens are masked (label -100), so the loss is taken on the
answer (and what ends it) only; batches are right-padded; micro-batch order is a pure function
of (seed, index), so a resumed run sees exactly the batches the interrupted one would have."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ellora.models.prompt_format import Example, PromptFormat, prompt_text, split_example

IGNORE = -100


@dataclass
class EncodedSet:
    """Encoded examples plus what encoding had to do to them."""

    items: list[dict[str, list[int]]] = field(default_factory=list)
    truncated: int = 0
    skipped: int = 0

    @property
    def tokens(self) -> int:
        """Total tokens over all examples."""
        return sum(len(item["input_ids"]) for item in self.items)


def prompt_ids(tokenizer: Any, text: str) -> list[int]:
    """Token ids of a prompt; BOS is added unless the rendered text already starts with it."""
    bos = getattr(tokenizer, "bos_token", None)
    add_special = not (bos and text.startswith(bos))
    return list(tokenizer(text, add_special_tokens=add_special)["input_ids"])


def encode_prompt(tokenizer: Any, fmt: PromptFormat, example: Example) -> list[int]:
    """Token ids of the inference prompt for ``example`` (as training tokenizes it)."""
    return prompt_ids(tokenizer, prompt_text(fmt, example, tokenizer))


def encode_example(
    tokenizer: Any, fmt: PromptFormat, example: Example, max_len: int
) -> tuple[dict[str, list[int]] | None, bool]:
    """(input_ids + labels, truncated?); None when not one answer token fits in ``max_len``."""
    prompt, completion = split_example(fmt, example, tokenizer)
    head = prompt_ids(tokenizer, prompt)
    tail = list(tokenizer(completion, add_special_tokens=False)["input_ids"])
    ids = head + tail
    truncated = len(ids) > max_len
    ids = ids[:max_len]
    labels = [IGNORE] * len(head) + tail
    labels = labels[:max_len]
    if all(label == IGNORE for label in labels):
        return None, truncated
    return {"input_ids": ids, "labels": labels}, truncated


def encode_all(tokenizer: Any, fmt: PromptFormat, examples: list[Example], max_len: int):
    """Encode every example; counts the truncated ones and skips those with no answer left."""
    encoded = EncodedSet()
    for example in examples:
        item, truncated = encode_example(tokenizer, fmt, example, max_len)
        encoded.truncated += int(truncated)
        if item is None:
            encoded.skipped += 1
        else:
            encoded.items.append(item)
    return encoded


def batch_indices(
    n_items: int, batch_size: int, seed: int, micro_batch: int, rank: int = 0, world: int = 1
) -> list[int]:
    """Example indices of global micro-batch ``micro_batch`` for process ``rank``.

    Each epoch is a fresh permutation seeded by (seed, epoch); the global stream of batches is
    dealt round-robin to the ``world`` processes.
    """
    global_batch = micro_batch * world + rank
    positions = [global_batch * batch_size + offset for offset in range(batch_size)]
    indices = []
    for position in positions:
        epoch, slot = divmod(position, n_items)
        indices.append(_permutation(n_items, seed, epoch)[slot])
    return indices


_PERMUTATIONS: dict[tuple[int, int, int], list[int]] = {}


def _permutation(n_items: int, seed: int, epoch: int) -> list[int]:
    key = (n_items, seed, epoch)
    if key not in _PERMUTATIONS:
        order = list(range(n_items))
        random.Random(seed * 1_000_003 + epoch).shuffle(order)
        _PERMUTATIONS.clear()  # one epoch at a time is all a run needs
        _PERMUTATIONS[key] = order
    return _PERMUTATIONS[key]


def collate(items: list[dict[str, list[int]]], pad_id: int) -> dict[str, Any]:
    """Right-padded tensors: input_ids, attention_mask and labels (-100 on padding)."""
    import torch

    width = max(len(item["input_ids"]) for item in items)
    ids, mask, labels = [], [], []
    for item in items:
        pad = width - len(item["input_ids"])
        ids.append(item["input_ids"] + [pad_id] * pad)
        mask.append([1] * len(item["input_ids"]) + [0] * pad)
        labels.append(item["labels"] + [IGNORE] * pad)
    return {
        "input_ids": torch.tensor(ids),
        "attention_mask": torch.tensor(mask),
        "labels": torch.tensor(labels),
    }


def answer_loss(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """(mean cross-entropy over answer tokens, answer token count).

    Logits are computed only from the first answer position on (``logits_to_keep``): with a
    large vocabulary most of a step's work and memory is the output layer, and prompt
    positions would be thrown away.
    """
    import torch

    labels = batch["labels"]
    targets = labels[:, 1:]
    columns = (targets != IGNORE).any(dim=0).nonzero()
    first = int(columns[0]) if len(columns) else targets.shape[1] - 1
    keep = labels.shape[1] - first
    output = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        logits_to_keep=keep,
        use_cache=False,
    )
    logits = output.logits[:, :-1, :].float()
    wanted = targets[:, first:]
    count = int((wanted != IGNORE).sum())
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), wanted.reshape(-1), ignore_index=IGNORE
    )
    return loss, count
