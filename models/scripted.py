"""A chat model that plays back queued replies: the one fake model of the test suite.

Graph tests queue what the "model" says (plain strings, ``AIMessage`` objects with tool calls,
or exceptions to raise) and then inspect ``.calls`` to see the prompts the graph sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from ellora.models._common import emit, response_metadata, text_of, usage
from ellora.models.capabilities import ModelCapabilities
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, field_validator


class ScriptExhausted(AssertionError):
    """The graph asked the scripted model for more replies than the test queued."""


class ScriptedModel(BaseChatModel):
    """Returns ``replies`` in order; records every prompt in ``calls`` and call options in
    ``call_options``. A reply that is an exception is raised instead of returned."""

    replies: list[Any] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    call_options: list[dict[str, Any]] = Field(default_factory=list)
    model_name: str = "scripted"
    context_length: int = 8192

    @field_validator("replies")
    @classmethod
    def _check_replies(cls, replies: list[Any]) -> list[Any]:
        for reply in replies:
            if not isinstance(reply, str | AIMessage | BaseException):
                message = f"a scripted reply must be str, AIMessage or an exception: {reply!r}"
                raise ValueError(message)  # noqa: TRY004 - pydantic turns it into a ValidationError
        return replies

    @property
    def _llm_type(self) -> str:
        return "ellora-scripted"

    @property
    def capabilities(self) -> ModelCapabilities:
        """Scripted replies may carry tool calls, so tool calling is reported as supported."""
        return ModelCapabilities(
            tool_calling=True, json_output=True, streaming=True, context_length=self.context_length
        )

    @property
    def remaining(self) -> int:
        """How many queued replies are left."""
        return len(self.replies)

    def get_num_tokens(self, text: str) -> int:
        """Tokens are words for the scripted model."""
        return len(text.split())

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any):
        """Record the tools (OpenAI format) in ``call_options``; replies are not affected."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def _next_reply(self, messages: list[BaseMessage], options: dict[str, Any]) -> AIMessage:
        self.calls.append(list(messages))
        self.call_options.append(dict(options))
        if not self.replies:
            last = text_of(messages[-1].content)[:200] if messages else ""
            raise ScriptExhausted(
                f"ScriptedModel has no reply left for call #{len(self.calls)}: queue more "
                f"replies in the test (last prompt message: {last!r})"
            )
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        message = AIMessage(content=reply) if isinstance(reply, str) else reply.model_copy()
        prompt_words = sum(len(text_of(m.content).split()) for m in messages)
        output_words = len(text_of(message.content).split())
        message.usage_metadata = usage(prompt_words, output_words)
        message.response_metadata = {
            **message.response_metadata,
            **response_metadata(self.model_name, 0.0, output_words),
        }
        return message

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self._next_reply(messages, {"stop": stop, **kwargs})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._next_reply(messages, {"stop": stop, **kwargs})
        text = text_of(message.content)
        words = text.split(" ") if text else []
        for word in words[:-1]:
            chunk = AIMessageChunk(content=word + " ")
            yield emit(ChatGenerationChunk(message=chunk), run_manager)
        last = AIMessageChunk(
            content=words[-1] if words else "",
            usage_metadata=message.usage_metadata,
            response_metadata=message.response_metadata,
            tool_call_chunks=[
                {
                    "name": call["name"],
                    "args": json.dumps(call["args"]),
                    "id": call.get("id"),
                    "index": index,
                    "type": "tool_call_chunk",
                }
                for index, call in enumerate(message.tool_calls)
            ],
        )
        yield emit(ChatGenerationChunk(message=last), run_manager)
