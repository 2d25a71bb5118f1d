"""ScriptedModel: the queued-replies chat model used by graph tests."""

from __future__ import annotations

import pytest
from ellora.models import ModelCapabilities, ModelUnavailable, count_tokens
from ellora.models.scripted import ScriptedModel, ScriptExhausted
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from pydantic import BaseModel


class Lookup(BaseModel):
    """Look a symbol up in the knowledge graph."""

    symbol: str


def test_replies_come_back_in_order_and_prompts_are_recorded():
    model = ScriptedModel(replies=["first answer", "second"])
    assert model.invoke("hello there").content == "first answer"
    second = model.invoke([SystemMessage("be brief"), HumanMessage("again")])
    assert second.content == "second"
    assert [m.content for m in model.calls[0]] == ["hello there"]
    assert [m.content for m in model.calls[1]] == ["be brief", "again"]
    assert model.remaining == 0


def test_usage_is_word_counts_and_latency_is_zero():
    reply = ScriptedModel(replies=["three word reply"]).invoke("a b c d")
    assert reply.usage_metadata == {"input_tokens": 4, "output_tokens": 3, "total_tokens": 7}
    assert reply.response_metadata["latency_s"] == 0.0
    assert reply.response_metadata["model"] == "scripted"
    assert reply.response_metadata["tokens_per_s"] == 0.0


def test_empty_queue_raises_a_clear_error():
    model = ScriptedModel(replies=["only one"])
    model.invoke("x")
    with pytest.raises(ScriptExhausted, match="no reply left for call #2"):
        model.invoke("what next?")


def test_exception_replies_are_raised_and_ai_messages_keep_tool_calls():
    call = {"name": "Lookup", "args": {"symbol": "saxpy"}, "id": "c1"}
    model = ScriptedModel(
        replies=[ModelUnavailable("endpoint down"), AIMessage(content="", tool_calls=[call])]
    )
    with pytest.raises(ModelUnavailable, match="endpoint down"):
        model.invoke("x")
    reply = model.bind_tools([Lookup], tool_choice="Lookup").invoke("find saxpy")
    assert reply.tool_calls[0]["name"] == "Lookup"
    assert reply.tool_calls[0]["args"] == {"symbol": "saxpy"}
    options = model.call_options[-1]
    assert options["tool_choice"] == "Lookup"
    assert options["tools"][0]["function"]["name"] == "Lookup"


def test_streaming_yields_word_chunks_that_add_up():
    call = {"name": "Lookup", "args": {"symbol": "axpy"}, "id": "t1"}
    model = ScriptedModel(replies=["parallel for loop", AIMessage(content="", tool_calls=[call])])
    chunks = list(model.stream("go"))
    assert len(chunks) >= 3
    total = sum(chunks[1:], chunks[0])
    assert total.content == "parallel for loop"
    assert total.usage_metadata["output_tokens"] == 3
    parts = list(model.stream("tool please"))
    merged = sum(parts[1:], parts[0])
    assert merged.tool_calls[0]["args"] == {"symbol": "axpy"}


def test_only_strings_messages_and_exceptions_can_be_queued():
    with pytest.raises(ValueError, match="must be str, AIMessage or an exception"):
        ScriptedModel(replies=[42])


def test_capabilities_and_count_tokens():
    model = ScriptedModel()
    assert isinstance(model.capabilities, ModelCapabilities)
    assert model.capabilities.tool_calling
    assert count_tokens(model, "one two three") == 3
