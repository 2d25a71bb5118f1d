"""Model providers behind langchain-core's chat model interface, chosen by name from config.

Every provider returns ``AIMessage`` objects whose ``usage_metadata`` holds token counts and
whose ``response_metadata`` holds ``latency_s``, ``model`` and ``tokens_per_s``; agents sum these
in reports. Every provider model has a ``capabilities`` property (:class:`ModelCapabilities`).
A prompt that does not fit the context raises :class:`ContextOverflow` (nothing is truncated).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ellora.models.capabilities import ModelCapabilities
from ellora.models.config import ModelSettings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "ContextOverflow",
    "ModelCapabilities",
    "ModelSettings",
    "ModelUnavailable",
    "count_tokens",
    "create_chat_model",
]

_PROVIDERS = {
    "embedded": "ellora.models.embedded:create_embedded_model",
    "openai-compatible": "ellora.models.openai_compatible:create_openai_compatible_model",
    "transformers": "ellora.models.transformers_provider:create_transformers_model",
}


class ModelUnavailable(RuntimeError):
    """The configured model cannot be reached or loaded; the message says how to fix it."""


class ContextOverflow(ModelUnavailable):
    """The prompt plus ``max_tokens`` does not fit the context window; nothing was truncated.

    ``over_by`` is how many tokens must go (``None`` when the server did not say), so an agent
    can trim its retrieved context by that much and retry.
    """

    def __init__(
        self,
        message: str,
        *,
        prompt_tokens: int | None = None,
        max_tokens: int | None = None,
        n_ctx: int | None = None,
        over_by: int | None = None,
    ) -> None:
        super().__init__(message)
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens
        self.n_ctx = n_ctx
        self.over_by = over_by

    @classmethod
    def from_counts(cls, prompt_tokens: int, max_tokens: int, n_ctx: int) -> ContextOverflow:
        """Build the error from exact token counts."""
        over_by = prompt_tokens + max_tokens - n_ctx
        return cls(
            f"prompt of {prompt_tokens} tokens + max_tokens {max_tokens} exceeds the context "
            f"window of {n_ctx} by {over_by} tokens: trim the retrieved context, lower "
            "model.max_tokens or raise model.n_ctx",
            prompt_tokens=prompt_tokens,
            max_tokens=max_tokens,
            n_ctx=n_ctx,
            over_by=over_by,
        )


def create_chat_model(settings: ModelSettings) -> BaseChatModel:
    """Build the chat model named by ``settings.provider``."""
    if settings.provider not in _PROVIDERS:
        raise ModelUnavailable(
            f"unknown model provider {settings.provider!r}: choose one of {sorted(_PROVIDERS)}"
        )
    module_name, factory = _PROVIDERS[settings.provider].split(":")
    return getattr(importlib.import_module(module_name), factory)(settings)


def count_tokens(model: BaseChatModel, text: str) -> int:
    """Count ``text`` in ``model``'s tokens: exact for the embedded model, estimated otherwise."""
    try:
        return int(model.get_num_tokens(text))
    except ImportError:  # langchain's default tokenizer needs transformers; estimate instead
        return max(1, (len(text) + 3) // 4) if text else 0
