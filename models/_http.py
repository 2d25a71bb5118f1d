"""HTTP plumbing of the OpenAI-compatible provider: bounded retries with backoff, SSE, errors."""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from ellora.models import ContextOverflow, ModelUnavailable

_CONTEXT_HINTS = re.compile(
    r"context[ _-]?(length|window|size)|maximum context|exceed_context|too many tokens",
    re.IGNORECASE,
)
_REQUESTED = re.compile(
    r"maximum context length is (\d+) tokens.*?requested (\d+) tokens"
    r"(?: \((\d+) in the messages, (\d+) in the completion\))?",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` extra tries after the first; delays ``base * 2**n`` capped at
    ``max_delay_s``; a server's Retry-After wins (capped at ``retry_after_cap_s``)."""

    max_retries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    retry_after_cap_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap_s)
        return min(self.base_delay_s * (2**attempt), self.max_delay_s)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def send_with_retries(
    client: httpx.Client,
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    policy: RetryPolicy,
    *,
    stream: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """POST ``payload`` to ``url``, retrying connection errors, timeouts, 429 and 5xx.

    Returns the first other response (streamed responses must be closed by the caller);
    raises ModelUnavailable once the tries are spent, or for a non-retryable HTTP error.
    """
    tries = policy.max_retries + 1
    last = "no try made"
    for attempt in range(tries):
        retry_after = None
        try:
            request = client.build_request("POST", url, json=payload, headers=headers)
            response = client.send(request, stream=stream)
        except httpx.InvalidURL as exc:
            raise ModelUnavailable(f"model.base_url {url} is not a valid URL ({exc})") from exc
        except httpx.TransportError as exc:
            last = type(exc).__name__
        else:
            if not _retryable_status(response.status_code):
                if response.status_code >= 400:
                    raise http_error(url, response)
                return response
            last = f"HTTP {response.status_code}"
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            response.close()
        if attempt + 1 < tries:
            sleep(policy.delay(attempt, retry_after))
    raise ModelUnavailable(
        f"model endpoint {url} did not answer after {tries} tries (last: {last}): "
        "start the server (ellora serve) or fix model.base_url"
    )


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error_text(response: httpx.Response) -> str:
    response.read()
    try:
        body = response.json()
    except ValueError:
        return response.text
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def http_error(url: str, response: httpx.Response) -> ModelUnavailable:
    """A non-retryable HTTP error as ModelUnavailable (ContextOverflow for context length)."""
    status, text = response.status_code, _error_text(response)
    if status in (400, 413, 422) and _CONTEXT_HINTS.search(text):
        return context_overflow(text)
    if status in (401, 403):
        hint = "set the API key in the env variable named by model.api_key_env"
    elif status == 404:
        hint = "check that model.base_url ends in /v1 and model.model names a served model"
    else:
        hint = "check the request options in the model settings"
    return ModelUnavailable(
        f"model endpoint {url} answered HTTP {status} ({_one_line(text)}): {hint}"
    )


def context_overflow(text: str) -> ContextOverflow:
    """ContextOverflow from a server's context-length message, with counts when it gives them."""
    match = _REQUESTED.search(text)
    if match is None:
        return ContextOverflow(
            f"the model endpoint says the prompt does not fit its context ({_one_line(text)}): "
            "trim the retrieved context or lower model.max_tokens"
        )
    n_ctx, requested = int(match.group(1)), int(match.group(2))
    if match.group(3) is not None:
        return ContextOverflow.from_counts(int(match.group(3)), int(match.group(4)), n_ctx)
    over_by = requested - n_ctx
    return ContextOverflow(
        f"request of {requested} tokens exceeds the context window of {n_ctx} by {over_by} "
        "tokens: trim the retrieved context, lower model.max_tokens or raise the server's n_ctx",
        n_ctx=n_ctx,
        over_by=over_by,
    )


def iter_sse(response: httpx.Response, url: str) -> Iterator[dict[str, Any]]:
    """The JSON ``data:`` events of a server-sent-event stream, up to ``[DONE]``."""
    try:
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            if not data:
                continue
            event = json.loads(data)
            if isinstance(event, dict) and event.get("error"):
                raise _stream_error(url, event["error"])
            yield event
    except httpx.TransportError as exc:
        raise ModelUnavailable(
            f"model endpoint {url} dropped the stream ({type(exc).__name__}): "
            "check the server log and retry"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ModelUnavailable(
            f"model endpoint {url} sent a stream event that is not JSON: "
            "check that model.base_url is an OpenAI-compatible /v1 endpoint"
        ) from exc


def _stream_error(url: str, error: Any) -> ModelUnavailable:
    text = str(error.get("message", error)) if isinstance(error, dict) else str(error)
    if _CONTEXT_HINTS.search(text):
        return context_overflow(text)
    return ModelUnavailable(f"model endpoint {url} failed mid-stream: {_one_line(text)}")
