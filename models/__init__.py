"""Model providers behind langchain-core's chat model interface, chosen by name from config.

Every provider returns ``AIMessage`` objects whose ``usage_metadata`` holds token counts and
whose ``response_metadata`` holds ``latency_s`` and ``model``; agents sum these in reports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ellora.models.config import ModelSettings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["ModelSettings", "create_chat_model", "ModelUnavailable"]

_PROVIDERS = {
    "embedded": "ellora.models.embedded:create_embedded_model",
    "openai-compatible": "ellora.models.openai_compatible:create_openai_compatible_model",
}


class ModelUnavailable(RuntimeError):
    """The configured model cannot be reached or loaded; the message says how to fix it."""


def create_chat_model(settings: ModelSettings) -> "BaseChatModel":
    """Build the chat model named by ``settings.provider``."""
    if settings.provider not in _PROVIDERS:
        raise ModelUnavailable(
            f"unknown model provider {settings.provider!r}: choose one of {sorted(_PROVIDERS)}"
        )
    module_name, factory = _PROVIDERS[settings.provider].split(":")
    return getattr(importlib.import_module(module_name), factory)(settings)
