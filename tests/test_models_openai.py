"""The OpenAI-compatible provider against the real llama-cpp-python server and a tiny fake one.

Everything connects to 127.0.0.1 only.
"""

from __future__ import annotations

import email.utils
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from ellora.models import ContextOverflow, ModelSettings, ModelUnavailable, create_chat_model
from ellora.models._http import RetryPolicy, parse_retry_after
from ellora.models.openai_compatible import OpenAICompatibleChatModel
from pydantic import BaseModel


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base_url: str, process: subprocess.Popen, log: Path, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not come up in {limit_s} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory) -> Iterator[str]:
    """A real llama-cpp-python server on the Gemma GGUF; yields its /v1 base URL."""
    pytest.importorskip("llama_cpp.server")
    from ellora.models.embedded import default_gguf_path

    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "ellora.models.llama_cpp_server",  # llama_cpp.server, loaded as the embedded provider
        "--model",
        str(default_gguf_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
        "--chat_format",
        "gemma",
    ]
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_up(base_url, process, log, limit_s=120)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def served(llama_server) -> OpenAICompatibleChatModel:
    settings = ModelSettings(
        provider="openai-compatible", base_url=llama_server, max_tokens=8, n_ctx=2048
    )
    model = create_chat_model(settings)
    assert isinstance(model, OpenAICompatibleChatModel)
    return model


class GetWeather(BaseModel):
    """Current weather in a city."""

    city: str


def test_chat_call_reports_server_usage(served):
    reply = served.invoke("Name one parallel programming model.")
    counts = reply.usage_metadata
    assert counts["input_tokens"] > 0
    assert 0 < counts["output_tokens"] <= 8
    assert counts["total_tokens"] == counts["input_tokens"] + counts["output_tokens"]
    meta = reply.response_metadata
    assert meta["usage_estimated"] is False
    assert 0 < meta["latency_s"] < 60
    assert meta["tokens_per_s"] == pytest.approx(counts["output_tokens"] / meta["latency_s"])
    assert meta["model"]


def test_streaming_over_sse(served):
    chunks = list(served.stream("Say hello."))
    assert len([c for c in chunks if c.content]) >= 2
    total = sum(chunks[1:], chunks[0])
    assert total.content
    assert 0 < total.usage_metadata["output_tokens"] <= 8
    assert total.response_metadata["latency_s"] >= total.response_metadata["time_to_first_token_s"]


def test_named_tool_choice_forces_a_tool_call(served):
    bound = served.bind_tools([GetWeather], tool_choice="GetWeather")
    reply = bound.invoke("What is the weather in Paris?", max_tokens=48, temperature=0.0)
    assert reply.tool_calls, reply
    call = reply.tool_calls[0]
    assert call["name"] == "GetWeather"
    assert isinstance(call["args"].get("city"), str)
    assert reply.usage_metadata["output_tokens"] > 0
    streamed = list(bound.stream("Weather in Oslo?", max_tokens=48, temperature=0.0))
    merged = sum(streamed[1:], streamed[0])
    assert [c["name"] for c in merged.tool_calls] == ["GetWeather"]


def test_prompt_over_the_server_context_is_context_overflow(served):
    with pytest.raises(ContextOverflow) as info:
        served.invoke("vector " * 2500)
    assert info.value.over_by and info.value.over_by > 0
    assert info.value.n_ctx == 2048


def test_endpoint_down_gives_up_after_bounded_retries():
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    settings = ModelSettings(
        provider="openai-compatible",
        base_url=base_url,
        max_retries=2,
        retry_base_delay_s=0.05,
        timeout_s=2.0,
    )
    model = create_chat_model(settings)
    start = time.monotonic()
    with pytest.raises(ModelUnavailable) as info:
        model.invoke("hello")
    assert time.monotonic() - start < 5.0
    message = str(info.value)
    assert "\n" not in message
    assert f"model endpoint {base_url}/chat/completions did not answer after 3 tries" in message
    assert "ellora serve" in message and "model.base_url" in message


# --- a scripted local HTTP server for the retry, error and SSE paths ----------------------------


def completion(content: str = "done") -> dict:
    return {
        "id": "chatcmpl-1",
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }


class FakeServer:
    """Answers POSTs with queued (status, headers, body) triples and records the requests."""

    def __init__(self, answers: list[tuple[int, dict[str, str], str]]) -> None:
        self.answers = list(answers)
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    {"headers": dict(self.headers), "body": body, "at": time.monotonic()}
                )
                status, headers, text = fake.answers.pop(0)
                data = text.encode()
                self.send_response(status)
                for key, value in {"Content-Length": str(len(data)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_server():
    servers: list[FakeServer] = []

    def start(answers: list[tuple[int, dict[str, str], str]]) -> FakeServer:
        servers.append(FakeServer(answers))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def fast_model(base_url: str, **fields) -> OpenAICompatibleChatModel:
    values = {"base_url": base_url, "retry_base_delay_s": 0.05, "timeout_s": 5.0, **fields}
    return OpenAICompatibleChatModel(**values)


def test_429_and_500_are_retried_with_backoff_and_retry_after(fake_server):
    ok = json.dumps(completion("third time lucky"))
    server = fake_server(
        [
            (429, {"Retry-After": "0.3"}, "slow down"),
            (500, {}, "oops"),
            (200, {"Content-Type": "application/json"}, ok),
        ]
    )
    model = fast_model(server.base_url, max_retries=3)
    sleeps: list[float] = []
    model._sleep = lambda seconds: (sleeps.append(seconds), time.sleep(seconds))
    reply = model.invoke("hi")
    assert reply.content == "third time lucky"
    assert len(server.requests) == 3
    assert sleeps == [pytest.approx(0.3), pytest.approx(0.1)]  # Retry-After, then 0.05 * 2
    gaps = [b["at"] - a["at"] for a, b in zip(server.requests, server.requests[1:])]
    assert gaps[0] >= 0.29 and gaps[1] >= 0.09
    assert reply.usage_metadata == {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6}


def test_persistent_5xx_ends_in_model_unavailable(fake_server):
    server = fake_server([(503, {}, "busy")] * 3)
    with pytest.raises(ModelUnavailable, match=r"after 3 tries \(last: HTTP 503\)"):
        fast_model(server.base_url, max_retries=2).invoke("hi")
    assert len(server.requests) == 3


def test_client_errors_are_not_retried_and_api_key_is_sent(fake_server, monkeypatch):
    monkeypatch.setenv("ELLORA_TEST_KEY", "sekrit")
    server = fake_server([(401, {}, json.dumps({"error": {"message": "bad key"}}))])
    with pytest.raises(ModelUnavailable, match="HTTP 401 .bad key.: set the API key"):
        fast_model(server.base_url, api_key_env="ELLORA_TEST_KEY").invoke("hi")
    assert len(server.requests) == 1
    assert server.requests[0]["headers"]["Authorization"] == "Bearer sekrit"


def test_context_length_400_parses_the_counts(fake_server):
    text = (
        "This model's maximum context length is 4096 tokens. However, you requested 4200 "
        "tokens (4000 in the messages, 200 in the completion). Please reduce the length."
    )
    server = fake_server([(400, {}, json.dumps({"error": {"message": text}}))])
    with pytest.raises(ContextOverflow) as info:
        fast_model(server.base_url).invoke("hi")
    error = info.value
    assert (error.prompt_tokens, error.max_tokens, error.n_ctx, error.over_by) == (
        4000,
        200,
        4096,
        104,
    )


def test_sse_tool_call_deltas_and_usage_are_assembled(fake_server):
    events = [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "GetWeather", "arguments": ""},
                            }
                        ],
                    },
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]},
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '"Lyon"}'}}]},
                    "finish_reason": "tool_calls",
                }
            ]
        },
        {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 7}},
    ]
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    server = fake_server([(200, {"Content-Type": "text/event-stream"}, body)])
    model = fast_model(server.base_url).bind_tools([GetWeather], tool_choice="auto")
    chunks = list(model.stream("weather in Lyon"))
    merged = sum(chunks[1:], chunks[0])
    assert merged.tool_calls == [
        {"name": "GetWeather", "args": {"city": "Lyon"}, "id": "call_1", "type": "tool_call"}
    ]
    assert merged.usage_metadata == {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}
    assert merged.response_metadata["finish_reason"] == "tool_calls"
    sent = server.requests[0]["body"]
    assert sent["stream"] is True and sent["tool_choice"] == "auto"
    assert sent["tools"][0]["function"]["name"] == "GetWeather"


def test_capabilities_come_from_settings():
    model = create_chat_model(ModelSettings(provider="openai-compatible", n_ctx=4096))
    assert model.capabilities.tool_calling is True
    assert model.capabilities.context_length == 4096


def test_retry_policy_and_retry_after_parsing():
    policy = RetryPolicy(max_retries=5, base_delay_s=0.5, max_delay_s=3.0, retry_after_cap_s=10.0)
    assert [policy.delay(n) for n in range(4)] == [0.5, 1.0, 2.0, 3.0]
    assert policy.delay(0, retry_after=30.0) == 10.0
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    http_date = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.0 < parse_retry_after(http_date) <= 5.0
