"""What a chat model can do, so agents can pick a strategy without trying and failing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelCapabilities:
    """Static facts about a provider: tool calling, JSON output, streaming, context size."""

    tool_calling: bool
    json_output: bool
    streaming: bool
    context_length: int
