"""In-process chat model: a GGUF file run by llama.cpp (llama-cpp-python), no server.

By default it runs the Gemma 3 270M from PyPI (see :mod:`ellora.models.gguf`), rendering
prompts with the GGUF's chat template (Gemma 3's when the file has none), so prompt tokens are
counted exactly before generating: a prompt that does not fit raises ContextOverflow.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ellora.models import ContextOverflow
from ellora.models._common import (
    emit,
    merge_stop,
    response_metadata,
    text_of,
    to_openai_messages,
    usage,
)
from ellora.models.capabilities import ModelCapabilities
from ellora.models.config import ModelSettings
from ellora.models.gguf import (
    DEFAULT_GGUF_NAME,
    DEFAULT_GGUF_PACKAGE,
    LoadedModel,
    default_gguf_path,
    load_llama,
    resolve_gguf_path,
    resolve_lora_path,
)
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

__all__ = [
    "DEFAULT_GGUF_NAME",
    "DEFAULT_GGUF_PACKAGE",
    "EmbeddedChatModel",
    "create_embedded_model",
    "default_gguf_path",
    "load_llama",
    "template_messages",
]

_MESSAGE_OVERHEAD_TOKENS = 8  # per-message estimate when the chat template cannot be rendered


def template_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """Messages as plain-text system/user/assistant turns that strict templates (Gemma's)
    accept: tool results become user turns and consecutive turns of one role are merged."""
    turns: list[dict[str, str]] = []
    for message in to_openai_messages(messages):
        role, text = message["role"], text_of(message.get("content"))
        if role == "tool":
            role, text = "user", f"Tool result:\n{text}"
        elif role not in ("system", "user", "assistant"):
            role = "user"
        if role == "assistant" and message.get("tool_calls"):
            calls = [call["function"] for call in message["tool_calls"]]
            text = "\n".join([text, *(f"Tool call: {c['name']}({c['arguments']})" for c in calls)])
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n\n" + text
        else:
            turns.append({"role": role, "content": text})
    return turns


class EmbeddedChatModel(BaseChatModel):
    """A GGUF chat model running in this process on llama.cpp, through its chat template."""

    model_path: str
    lora_path: str | None = None
    n_ctx: int = 8192
    n_threads: int | None = None
    temperature: float = 0.2
    top_p: float = 0.95
    max_tokens: int = 768
    seed: int | None = 1234
    stop: list[str] | None = Field(default=None)

    @property
    def _llm_type(self) -> str:
        return "ellora-embedded"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "lora_path": self.lora_path, "n_ctx": self.n_ctx,
                "n_threads": self.n_threads}

    @property
    def model_name(self) -> str:
        """The GGUF file name (and its LoRA's), reported as ``response_metadata["model"]``."""
        name = Path(self.model_path).name
        return f"{name}+{Path(self.lora_path).name}" if self.lora_path else name

    @property
    def capabilities(self) -> ModelCapabilities:
        """No tool calling; JSON output through llama.cpp grammars; streaming."""
        return ModelCapabilities(
            tool_calling=False, json_output=True, streaming=True, context_length=self.n_ctx
        )

    def loaded(self) -> LoadedModel:
        """The cached llama.cpp model behind this chat model (loaded on first use)."""
        return load_llama(self.model_path, self.n_ctx, self.n_threads, self.lora_path)

    def get_num_tokens(self, text: str) -> int:
        """Exact number of tokens of ``text`` for this GGUF's tokenizer."""
        llama = self.loaded().llama
        return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Prompt tokens of ``messages`` after the chat template (exact where the GGUF's
        own template is used)."""
        loaded = self.loaded()
        with loaded.lock:
            return _prompt_tokens(loaded, template_messages(messages))

    def _params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "temperature": kwargs.get("temperature", self.temperature),
            "top_p": kwargs.get("top_p", self.top_p),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "seed": kwargs.get("seed", self.seed),
            "stop": merge_stop(self.stop, stop, kwargs.get("stop")),
        }
        if kwargs.get("response_format") is not None:
            params["response_format"] = kwargs["response_format"]
        return params

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        loaded, turns, params = (
            self.loaded(),
            template_messages(messages),
            self._params(stop, kwargs),
        )
        with loaded.lock:
            start = time.perf_counter()
            prompt_tokens = _check_fits(loaded, turns, params["max_tokens"], self.n_ctx)
            result = _complete(loaded, turns, params, self.n_ctx)
            latency = time.perf_counter() - start
        choice = result["choices"][0]
        counts = result.get("usage") or {}
        input_tokens = int(counts.get("prompt_tokens", prompt_tokens))
        output_tokens = int(counts.get("completion_tokens", 0))
        meta = response_metadata(
            self.model_name, latency, output_tokens, finish_reason=choice.get("finish_reason")
        )
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata=usage(input_tokens, output_tokens),
            response_metadata=meta,
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        loaded, turns, params = (
            self.loaded(),
            template_messages(messages),
            self._params(stop, kwargs),
        )
        with loaded.lock:
            start = time.perf_counter()
            prompt_tokens = _check_fits(loaded, turns, params["max_tokens"], self.n_ctx)
            pieces: list[str] = []
            first_token_at: float | None = None
            finish_reason = None
            for piece, finish in _stream_pieces(loaded, turns, params, self.n_ctx):
                finish_reason = finish or finish_reason
                if not piece:
                    continue
                first_token_at = first_token_at or time.perf_counter()
                pieces.append(piece)
                yield emit(ChatGenerationChunk(message=AIMessageChunk(content=piece)), run_manager)
            latency = time.perf_counter() - start
            text = "".join(pieces).encode("utf-8")
            output_tokens = len(loaded.llama.tokenize(text, add_bos=False, special=False))
        meta = response_metadata(
            self.model_name,
            latency,
            output_tokens,
            finish_reason=finish_reason,
            time_to_first_token_s=(first_token_at or time.perf_counter()) - start,
        )
        last = AIMessageChunk(
            content="", usage_metadata=usage(prompt_tokens, output_tokens), response_metadata=meta
        )
        yield emit(ChatGenerationChunk(message=last), run_manager)


def _prompt_tokens(loaded: LoadedModel, turns: list[dict[str, str]]) -> int:
    llama = loaded.llama
    if loaded.formatter is not None:
        prompt = loaded.formatter(messages=turns).prompt
        return len(llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
    text = "".join(turn["content"] for turn in turns).encode("utf-8")
    return len(llama.tokenize(text, add_bos=True, special=False)) + _MESSAGE_OVERHEAD_TOKENS * len(
        turns
    )


def _check_fits(loaded: LoadedModel, turns: list[dict[str, str]], max_tokens: int, n_ctx: int):
    prompt_tokens = _prompt_tokens(loaded, turns)
    if prompt_tokens + max_tokens > n_ctx:
        raise ContextOverflow.from_counts(prompt_tokens, max_tokens, n_ctx)
    return prompt_tokens


def _fresh_if_seeded(loaded: LoadedModel, params: dict[str, Any]) -> None:
    """A seeded request evaluates its prompt from scratch: llama.cpp reuses the evaluated
    prefix of the previous prompt, and a prompt evaluated in other batches gives slightly
    different logits (measured: the same seed answered 'an' after one prompt, 'a' after
    another), so the same seed would not give the same answer."""
    if params.get("seed") is not None:
        loaded.llama.reset()


def _complete(
    loaded: LoadedModel, turns: list[dict[str, str]], params: dict[str, Any], n_ctx: int
) -> dict[str, Any]:
    _fresh_if_seeded(loaded, params)
    try:
        return loaded.llama.create_chat_completion(messages=turns, **params)
    except ValueError as exc:
        _raise_if_overflow(exc, params["max_tokens"], n_ctx)
        raise


def _stream_pieces(
    loaded: LoadedModel, turns: list[dict[str, str]], params: dict[str, Any], n_ctx: int
) -> Iterator[tuple[str, str | None]]:
    _fresh_if_seeded(loaded, params)
    try:
        for chunk in loaded.llama.create_chat_completion(messages=turns, stream=True, **params):
            choice = chunk["choices"][0]
            yield choice["delta"].get("content") or "", choice.get("finish_reason")
    except ValueError as exc:
        _raise_if_overflow(exc, params["max_tokens"], n_ctx)
        raise


def _raise_if_overflow(exc: ValueError, max_tokens: int, n_ctx: int) -> None:
    """Re-raise llama.cpp's own 'exceed context window' error as ContextOverflow."""
    match = re.search(r"Requested tokens \((\d+)\) exceed context window", str(exc))
    if match is not None:
        raise ContextOverflow.from_counts(int(match.group(1)), max_tokens, n_ctx) from exc


def create_embedded_model(settings: ModelSettings) -> EmbeddedChatModel:
    """Build the embedded chat model from settings (the GGUF is loaded on first use)."""
    return EmbeddedChatModel(
        model_path=str(resolve_gguf_path(settings.gguf_path)),
        lora_path=str(lora) if (lora := resolve_lora_path(settings.lora_path)) else None,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        temperature=settings.temperature,
        top_p=settings.top_p,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
    )
