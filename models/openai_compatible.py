"""Chat model for any OpenAI-compatible ``/v1/chat/completions`` endpoint, over httpx.

Works with vLLM, the llama.cpp servers, Ollama and hosted APIs: bounded retries with exponential
backoff (Retry-After honoured), SSE streaming, tool calls through ``bind_tools``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
from ellora.models import ModelUnavailable
from ellora.models._common import (
    emit,
    estimate_tokens,
    merge_stop,
    response_metadata,
    text_of,
    to_openai_messages,
    usage,
)
from ellora.models._http import RetryPolicy, iter_sse, send_with_retries
from ellora.models.capabilities import ModelCapabilities
from ellora.models.config import ModelSettings
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

_PASSTHROUGH = ("tools", "tool_choice", "response_format", "parallel_tool_calls", "logit_bias")


class OpenAICompatibleChatModel(BaseChatModel):
    """A chat model served behind an OpenAI-compatible HTTP API."""

    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "default"
    api_key_env: str | None = "ELLORA_API_KEY"
    temperature: float = 0.2
    top_p: float = 0.95
    max_tokens: int = 768
    seed: int | None = 1234
    stop: list[str] | None = None
    n_ctx: int = 8192
    timeout_s: float = 120.0
    max_retries: int = 3
    retry_base_delay_s: float = 0.5
    retry_max_delay_s: float = 8.0
    stream_usage: bool = Field(True, description="ask for usage in streams (stream_options)")
    extra_body: dict[str, Any] = Field(default_factory=dict)

    _client: httpx.Client | None = PrivateAttr(default=None)
    _client_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _sleep: Callable[[float], None] = PrivateAttr(default=time.sleep)

    @property
    def _llm_type(self) -> str:
        return "ellora-openai-compatible"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model}

    @property
    def capabilities(self) -> ModelCapabilities:
        """Tool calls, JSON output and streaming; the context length comes from settings."""
        return ModelCapabilities(
            tool_calling=True, json_output=True, streaming=True, context_length=self.n_ctx
        )

    @property
    def url(self) -> str:
        """The chat-completions URL."""
        return self.base_url.rstrip("/") + "/chat/completions"

    @property
    def retry_policy(self) -> RetryPolicy:
        """Retry settings of this model."""
        return RetryPolicy(self.max_retries, self.retry_base_delay_s, self.retry_max_delay_s)

    def client(self) -> httpx.Client:
        """The pooled HTTP client of this model (created on first use)."""
        with self._client_lock:
            if self._client is None:
                timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0))
                self._client = httpx.Client(timeout=timeout)
            return self._client

    def close(self) -> None:
        """Close the pooled connections."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def get_num_tokens(self, text: str) -> int:
        """Estimated tokens of ``text`` (about four characters a token)."""
        return estimate_tokens(text)

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ):
        """Bind tools (functions, pydantic models, LangChain tools, OpenAI dicts).

        ``tool_choice``: "auto", "none", "required"/"any", a tool name (forces that tool),
        True (forces the only tool) or an OpenAI tool_choice dict.
        """
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = _tool_choice(tool_choice, formatted)
        return self.bind(tools=formatted, **kwargs)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _payload(
        self, messages: list[BaseMessage], stop: list[str] | None, stream: bool, **kwargs: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(messages),
            "temperature": kwargs.get("temperature", self.temperature),
            "top_p": kwargs.get("top_p", self.top_p),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "stream": stream,
            **self.extra_body,
        }
        seed = kwargs.get("seed", self.seed)
        if seed is not None:
            payload["seed"] = seed
        stops = merge_stop(self.stop, stop, kwargs.get("stop"))
        if stops:
            payload["stop"] = stops
        payload.update({key: kwargs[key] for key in _PASSTHROUGH if kwargs.get(key) is not None})
        if stream and self.stream_usage:
            payload["stream_options"] = {"include_usage": True}
        return payload

    def _send(self, payload: dict[str, Any], stream: bool) -> httpx.Response:
        return send_with_retries(
            self.client(),
            self.url,
            payload,
            self._headers(),
            self.retry_policy,
            stream=stream,
            sleep=self._sleep,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        payload = self._payload(messages, stop, stream=False, **kwargs)
        start = time.perf_counter()
        response = self._send(payload, stream=False)
        latency = time.perf_counter() - start
        data = self._json(response)
        try:
            choice = data["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError) as exc:
            raise self._not_openai(data) from exc
        content = text_of(message.get("content"))
        tool_calls, invalid = _parse_tool_calls(message.get("tool_calls") or [])
        input_tokens, output_tokens, estimated = _counts(data.get("usage"), payload, content)
        meta = response_metadata(
            data.get("model") or self.model,
            latency,
            output_tokens,
            finish_reason=choice.get("finish_reason"),
            usage_estimated=estimated,
        )
        ai = AIMessage(
            content=content,
            tool_calls=tool_calls,
            invalid_tool_calls=invalid,
            usage_metadata=usage(input_tokens, output_tokens),
            response_metadata=meta,
            id=data.get("id"),
        )
        return ChatResult(generations=[ChatGeneration(message=ai)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        payload = self._payload(messages, stop, stream=True, **kwargs)
        start = time.perf_counter()
        state = _StreamState(model=self.model)
        response = self._send(payload, stream=True)
        try:
            for event in iter_sse(response, self.url):
                for chunk in state.consume(event):
                    yield emit(chunk, run_manager)
        finally:
            response.close()
        latency = time.perf_counter() - start
        input_tokens, output_tokens, estimated = _counts(state.usage, payload, state.text)
        if state.usage is None and state.pieces:
            output_tokens = state.pieces  # servers send about one token per event
        meta = response_metadata(
            state.model,
            latency,
            output_tokens,
            finish_reason=state.finish_reason,
            usage_estimated=estimated,
            time_to_first_token_s=state.ttft(start, latency),
        )
        last = AIMessageChunk(
            content="", usage_metadata=usage(input_tokens, output_tokens), response_metadata=meta
        )
        yield emit(ChatGenerationChunk(message=last), run_manager)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise self._not_openai(response.text) from exc
        if not isinstance(data, dict):
            raise self._not_openai(data)
        return data

    def _not_openai(self, body: Any) -> ModelUnavailable:
        snippet = " ".join(str(body).split())[:200]
        return ModelUnavailable(
            f"model endpoint {self.url} answered something that is not a chat completion "
            f"({snippet}): check that model.base_url is an OpenAI-compatible /v1 endpoint"
        )


class _StreamState:
    """Accumulates what a stream has said so far: text, usage, finish reason, timing."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.text = ""
        self.pieces = 0
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self.first_at: float | None = None
        self.tool_seen: dict[int, dict[str, str]] = {}

    def consume(self, event: dict[str, Any]) -> Iterator[ChatGenerationChunk]:
        self.model = event.get("model") or self.model
        self.usage = event.get("usage") or self.usage
        for choice in event.get("choices") or []:
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
            delta = choice.get("delta") or {}
            content = text_of(delta.get("content"))
            chunks = [
                self._tool_chunk(call, position)
                for position, call in enumerate(delta.get("tool_calls") or [])
            ]
            if not content and not chunks:
                continue
            self.text += content
            self.pieces += 1
            self.first_at = self.first_at or time.perf_counter()
            message = AIMessageChunk(content=content, tool_call_chunks=chunks)
            yield ChatGenerationChunk(message=message)

    def _tool_chunk(self, call: dict[str, Any], position: int) -> Any:
        """A tool-call delta; a name or id the server repeats in later deltas (llama-cpp-python
        does) is dropped, since chunk merging would concatenate it."""
        index = call.get("index", position)
        function = call.get("function") or {}
        name, call_id = function.get("name"), call.get("id")
        seen = self.tool_seen.setdefault(index, {})
        if name is not None and seen.get("name") == name:
            name = None
        if call_id is not None and seen.get("id") == call_id:
            call_id = None
        seen.update({key: value for key, value in (("name", name), ("id", call_id)) if value})
        return tool_call_chunk(name=name, args=function.get("arguments"), id=call_id, index=index)

    def ttft(self, start: float, latency: float) -> float:
        return self.first_at - start if self.first_at is not None else latency


def _counts(
    server_usage: dict[str, Any] | None, payload: dict[str, Any], content: str
) -> tuple[int, int, bool]:
    """(input, output, estimated): the server's usage when given, else estimates."""
    if server_usage and server_usage.get("prompt_tokens") is not None:
        prompt = int(server_usage["prompt_tokens"])
        completion = int(server_usage.get("completion_tokens") or 0)
        return prompt, completion, False
    prompt_text = json.dumps(payload["messages"], ensure_ascii=False)
    return estimate_tokens(prompt_text), estimate_tokens(content), True


def _parse_tool_calls(raw_calls: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """OpenAI ``tool_calls`` as LangChain tool calls; unparsable arguments become invalid."""
    calls, invalid = [], []
    for raw in raw_calls:
        try:
            parsed = parse_tool_call(raw, return_id=True)
        except Exception as exc:  # noqa: BLE001 - OutputParserException and malformed dicts
            invalid.append(make_invalid_tool_call(raw, str(exc)))
            continue
        if parsed is not None:
            calls.append(parsed)
    return calls, invalid


def _tool_choice(choice: str | dict[str, Any] | bool, tools: list[dict[str, Any]]) -> Any:
    names = [tool["function"]["name"] for tool in tools]
    if isinstance(choice, dict) or choice in ("auto", "none", "required"):
        return choice
    if choice == "any":
        return "required"
    if choice is True:
        if len(names) != 1:
            raise ValueError("tool_choice=True needs exactly one tool; name the tool instead")
        choice = names[0]
    if choice not in names:
        raise ValueError(f"tool_choice {choice!r} is not one of the bound tools {names}")
    return {"type": "function", "function": {"name": choice}}


def create_openai_compatible_model(settings: ModelSettings) -> OpenAICompatibleChatModel:
    """Build the OpenAI-compatible chat model from settings (no connection is made yet)."""
    return OpenAICompatibleChatModel(
        base_url=settings.base_url,
        model=settings.model,
        api_key_env=settings.api_key_env,
        temperature=settings.temperature,
        top_p=settings.top_p,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
        n_ctx=settings.n_ctx,
        timeout_s=settings.timeout_s,
        max_retries=settings.max_retries,
        retry_base_delay_s=settings.retry_base_delay_s,
        retry_max_delay_s=settings.retry_max_delay_s,
    )
