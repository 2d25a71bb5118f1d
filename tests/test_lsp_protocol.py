"""``ellora lsp`` under malformed traffic from a real client over stdio: every request gets an
answer (wrong-typed params: -32602; a badly framed request: -32700), and a ``Content-Length``
that does not match its body costs only that message, never the well-formed ones after it.

The bad messages are written as raw bytes on the client's own connection; their answers are
caught by registering their ids with the client's protocol, as its own requests are.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json

import pytest
import pytest_lsp
from lsp_support import SERVER, actions_at, copy_saxpy, ellora_client, open_document, start_session
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

ANSWER_S = 10  # a server that answers at all answers these within milliseconds


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, client_factory=ellora_client))
async def client(lsp_client: LanguageClient, tmp_path):
    await start_session(lsp_client, tmp_path, None)
    yield
    await lsp_client.shutdown_session()


def send_raw(client: LanguageClient, body: bytes, length: int | None = None,
             answer_id: int | None = None) -> asyncio.Future | None:
    """Write one message as bytes (``length`` in its header, else the true one); with
    ``answer_id``, a future for the server's answer to that id."""
    future = None
    if answer_id is not None:
        future = concurrent.futures.Future()
        client.protocol._request_futures[answer_id] = future
    client.protocol.writer.write(b"Content-Length: %d\r\n\r\n%s"
                                 % (len(body) if length is None else length, body))
    return None if future is None else asyncio.wrap_future(future)


def request(msg_id: int, method: str, params: object) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method,
                       "params": params}).encode()


async def error_of(answer: asyncio.Future) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as caught:
        await asyncio.wait_for(answer, ANSWER_S)
    return caught.value


async def still_serving(client: LanguageClient, uri: str) -> None:
    actions = await asyncio.wait_for(actions_at(client, uri, (5, 8)), ANSWER_S)
    assert len(actions) == 6


@pytest.mark.asyncio
@pytest.mark.parametrize("method, params, where", [
    ("textDocument/codeAction", {"bogus": True}, "textDocument"),
    ("textDocument/hover", {"textDocument": {"uri": "file:///x.cpp"},
                            "position": {"line": "zero", "character": 0}}, "line"),
    ("workspace/executeCommand", ["ellora.runAction"], "executeCommand"),
])
async def test_wrong_typed_params_get_invalid_params_not_silence(client, tmp_path, method,
                                                                 params, where):
    uri = open_document(client, copy_saxpy(tmp_path))
    error = await error_of(send_raw(client, request(9001, method, params), answer_id=9001))
    assert error.code == -32602 and "Invalid params" in str(error)
    assert method in str(error) and where in str(error)
    await still_serving(client, uri)


@pytest.mark.asyncio
async def test_a_content_length_larger_than_its_body_does_not_swallow_the_next_requests(
        client, tmp_path):
    uri = open_document(client, copy_saxpy(tmp_path))
    hover = request(9101, "textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 5, "character": 8}})
    short = send_raw(client, hover, length=len(hover) + 60, answer_id=9101)
    await still_serving(client, uri)  # well-formed requests right behind it are answered
    await still_serving(client, uri)
    error = await error_of(short)
    assert error.code == -32700 and "larger than the message body" in str(error)


@pytest.mark.asyncio
async def test_a_short_body_followed_by_silence_is_answered(client, tmp_path):
    uri = open_document(client, copy_saxpy(tmp_path))
    hover = request(9201, "textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 5, "character": 8}})
    error = await error_of(send_raw(client, hover, length=len(hover) + 500, answer_id=9201))
    assert error.code == -32700 and "then nothing more" in str(error)
    await still_serving(client, uri)


@pytest.mark.asyncio
async def test_a_content_length_shorter_than_its_body_and_stray_bytes_are_skipped(
        client, tmp_path):
    uri = open_document(client, copy_saxpy(tmp_path))
    hover = request(9301, "textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 5, "character": 8}})
    cut = send_raw(client, hover, length=len(hover) - 10, answer_id=9301)
    client.protocol.writer.write(b"\r\nnot a header at all\r\n\r\n{}")
    await still_serving(client, uri)
    error = await error_of(cut)
    assert error.code == -32700 and "not JSON" in str(error)
    await still_serving(client, uri)
