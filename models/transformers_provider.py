"""In-process chat model on Hugging Face transformers: a model directory or a GGUF (dequantized
by transformers, cached as a model directory) plus an optional PEFT adapter, on CPU or GPU.

Prompts are rendered by ``prompt_format``: ``chat`` uses the tokenizer's chat template (Gemma
3's for Gemma models without one); a named template (``chatkokkos``, ``hpc-coder-v2``) gets the
last user message as the question and the earlier messages as the context, as in training.
Greedy decoding at temperature 0; prompt tokens are counted exactly before generating.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ellora.models import ContextOverflow
from ellora.models._common import emit, merge_stop, response_metadata, usage
from ellora.models.capabilities import ModelCapabilities
from ellora.models.config import ModelSettings
from ellora.models.embedded import template_messages
from ellora.models.hf_load import load_for_inference
from ellora.models.prompt_format import Example, load_prompt_format
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

_END_OF_TURN = "<end_of_turn>"


def messages_to_example(messages: list[BaseMessage]) -> Example:
    """The last user turn as the question, everything said before it as the context."""
    turns = template_messages(messages)
    last_user = max((i for i, t in enumerate(turns) if t["role"] == "user"), default=None)
    if last_user is None:
        return Example(question="\n\n".join(t["content"] for t in turns))
    context = "\n\n".join(t["content"] for t in turns[:last_user])
    return Example(question=turns[last_user]["content"], context=context)


class TransformersChatModel(BaseChatModel):
    """A causal LM run by transformers in this process (optionally with a LoRA adapter)."""

    model_path: str | None = None
    adapter_path: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    prompt_format: str = "chat"
    n_ctx: int = 8192
    temperature: float = 0.2
    top_p: float = 0.95
    max_tokens: int = 768
    seed: int | None = 1234
    stop: list[str] | None = Field(default=None)

    @property
    def _llm_type(self) -> str:
        return "ellora-transformers"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "adapter_path": self.adapter_path,
            "prompt_format": self.prompt_format,
        }

    @property
    def model_name(self) -> str:
        """Base model name, plus the adapter's folder name when one is applied."""
        base = Path(self.model_path).name if self.model_path else "gemma-3-270m (transformers)"
        return f"{base}+{Path(self.adapter_path).name}" if self.adapter_path else base

    @property
    def capabilities(self) -> ModelCapabilities:
        """No tool calling, no constrained JSON; streaming through a token streamer."""
        return ModelCapabilities(
            tool_calling=False, json_output=False, streaming=True, context_length=self.n_ctx
        )

    def loaded(self) -> tuple[Any, Any, threading.Lock]:
        """(model, tokenizer, lock), loaded on first use and cached per process."""
        return load_for_inference(self.model_path, self.adapter_path, self.device, self.dtype)

    def get_num_tokens(self, text: str) -> int:
        """Exact token count of ``text`` for this model's tokenizer."""
        tokenizer = self.loaded()[1]
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: Any = None) -> int:
        """Exact prompt tokens of ``messages`` after the prompt format."""
        return len(self._prompt_ids(messages, self.loaded()[1]))

    def _prompt_ids(self, messages: list[BaseMessage], tokenizer: Any) -> list[int]:
        from ellora.models.train.encode import encode_prompt, prompt_ids

        fmt = load_prompt_format(self.prompt_format)
        if fmt.is_chat:
            text = tokenizer.apply_chat_template(
                template_messages(messages), tokenize=False, add_generation_prompt=True
            )
            return prompt_ids(tokenizer, str(text))
        return encode_prompt(tokenizer, fmt, messages_to_example(messages))

    def _options(self, stop: list[str] | None, kwargs: dict[str, Any], tokenizer: Any):
        temperature = kwargs.get("temperature", self.temperature)
        fmt = load_prompt_format(self.prompt_format)
        stops = merge_stop(self.stop, stop, kwargs.get("stop"), list(fmt.stop))
        options: dict[str, Any] = {
            "max_new_tokens": kwargs.get("max_tokens", self.max_tokens),
            "do_sample": temperature > 0,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": _stop_ids(tokenizer),
        }
        if temperature > 0:
            options.update(temperature=temperature, top_p=kwargs.get("top_p", self.top_p))
        if stops:
            options.update(stop_strings=stops, tokenizer=tokenizer)
        return options, stops, kwargs.get("seed", self.seed)

    def _inputs(self, messages: list[BaseMessage], model: Any, tokenizer: Any, max_new: int):
        import torch

        ids = self._prompt_ids(messages, tokenizer)
        if len(ids) + max_new > self.n_ctx:
            raise ContextOverflow.from_counts(len(ids), max_new, self.n_ctx)
        tensor = torch.tensor([ids], device=model.device)
        return {"input_ids": tensor, "attention_mask": torch.ones_like(tensor)}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        import torch

        model, tokenizer, lock = self.loaded()
        options, stops, seed = self._options(stop, kwargs, tokenizer)
        with lock, torch.inference_mode():
            start = time.perf_counter()
            inputs = self._inputs(messages, model, tokenizer, options["max_new_tokens"])
            if seed is not None:
                torch.manual_seed(seed)
            output = model.generate(**inputs, **options)
            latency = time.perf_counter() - start
        new_ids = output[0][inputs["input_ids"].shape[1] :].tolist()
        text, finish = _finish(
            tokenizer.decode(new_ids, skip_special_tokens=True),
            stops,
            len(new_ids),
            options["max_new_tokens"],
        )
        meta = response_metadata(self.model_name, latency, len(new_ids), finish_reason=finish)
        message = AIMessage(
            content=text,
            usage_metadata=usage(int(inputs["input_ids"].shape[1]), len(new_ids)),
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
        import torch
        from transformers import TextIteratorStreamer

        model, tokenizer, lock = self.loaded()
        options, stops, seed = self._options(stop, kwargs, tokenizer)
        with lock:
            start = time.perf_counter()
            inputs = self._inputs(messages, model, tokenizer, options["max_new_tokens"])
            streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
            result: dict[str, Any] = {}

            def work() -> None:
                with torch.inference_mode():
                    if seed is not None:
                        torch.manual_seed(seed)
                    result["output"] = model.generate(**inputs, **options, streamer=streamer)

            worker = threading.Thread(target=work, daemon=True)
            worker.start()
            text, first_at = "", None
            for piece in streamer:
                shown = _cut_at_stop(text + piece, stops)[len(text) :]
                text += piece
                if shown:
                    first_at = first_at or time.perf_counter()
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=shown))
                    yield emit(chunk, run_manager)
            worker.join()
            latency = time.perf_counter() - start
        n_new = int(result["output"].shape[1] - inputs["input_ids"].shape[1])
        _, finish = _finish(text, stops, n_new, options["max_new_tokens"])
        meta = response_metadata(
            self.model_name,
            latency,
            n_new,
            finish_reason=finish,
            time_to_first_token_s=(first_at or time.perf_counter()) - start,
        )
        last = AIMessageChunk(
            content="",
            response_metadata=meta,
            usage_metadata=usage(int(inputs["input_ids"].shape[1]), n_new),
        )
        yield emit(ChatGenerationChunk(message=last), run_manager)


def _stop_ids(tokenizer: Any) -> list[int]:
    """EOS and, where the vocabulary has it, Gemma's end-of-turn token."""
    ids = [tokenizer.eos_token_id]
    end_of_turn = tokenizer.convert_tokens_to_ids(_END_OF_TURN)
    if isinstance(end_of_turn, int) and end_of_turn != tokenizer.unk_token_id:
        ids.append(end_of_turn)
    return [i for i in ids if i is not None]


def _cut_at_stop(text: str, stops: list[str]) -> str:
    cuts = [text.find(s) for s in stops if s in text]
    return text[: min(cuts)] if cuts else text


def _finish(text: str, stops: list[str], n_new: int, max_new: int) -> tuple[str, str]:
    """(text cut at the first stop string, finish reason)."""
    cut = _cut_at_stop(text, stops)
    if cut != text or n_new < max_new:
        return cut, "stop"
    return cut, "length"


def create_transformers_model(settings: ModelSettings) -> TransformersChatModel:
    """Build the transformers chat model from settings (weights load on first use)."""
    load_prompt_format(settings.prompt_format)  # an unknown format fails now, not mid-task
    return TransformersChatModel(
        model_path=settings.model_path,
        adapter_path=settings.adapter_path,
        device=settings.device,
        dtype=settings.dtype,
        prompt_format=settings.prompt_format,
        n_ctx=settings.n_ctx,
        temperature=settings.temperature,
        top_p=settings.top_p,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
    )


__all__ = ["TransformersChatModel", "create_transformers_model", "messages_to_example"]
