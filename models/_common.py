"""Helpers shared by the providers: message conversion and the usage/latency metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage, convert_to_openai_messages
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk


def estimate_tokens(text: str) -> int:
    """Rough token count (about four characters a token) where no tokenizer is at hand."""
    return (len(text) + 3) // 4 if text else 0


def usage(input_tokens: int, output_tokens: int) -> UsageMetadata:
    """The ``usage_metadata`` every provider attaches to its AIMessage."""
    return UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )


def response_metadata(
    model: str, latency_s: float, output_tokens: int, **extra: Any
) -> dict[str, Any]:
    """``response_metadata`` with ``model``, ``latency_s`` and ``tokens_per_s`` (output / wall)."""
    tokens_per_s = output_tokens / latency_s if latency_s > 0 else 0.0
    return {"model": model, "latency_s": latency_s, "tokens_per_s": tokens_per_s, **extra}


def to_openai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as OpenAI chat ``messages`` (tool calls and tool results included)."""
    converted = convert_to_openai_messages(list(messages))
    return [dict(message) for message in converted]


def text_of(content: Any) -> str:
    """Plain text of an OpenAI/LangChain message content (a string or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text":
            parts.append(str(part.get("text", "")))
    return "".join(parts)


def merge_stop(*stops: Sequence[str] | None) -> list[str]:
    """Union of stop-sequence lists, order kept, duplicates dropped."""
    merged: list[str] = []
    for stop in stops:
        for item in stop or ():
            if item not in merged:
                merged.append(item)
    return merged


def emit(
    chunk: ChatGenerationChunk, run_manager: CallbackManagerForLLMRun | None
) -> ChatGenerationChunk:
    """Report a streamed chunk to the callbacks and hand it on."""
    if run_manager is not None:
        run_manager.on_llm_new_token(str(chunk.message.content), chunk=chunk)
    return chunk
