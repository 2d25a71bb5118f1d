"""Provider overhead benchmarks.

(a) embedded provider tokens/s vs raw ``llama_cpp.Llama.create_chat_completion`` on the same
    Llama object (same settings, same prompt, same seed), interleaved, median of N runs;
(b) openai-compatible provider wall time per call vs a raw httpx POST of the same payload to the
    same local llama-cpp-python server (started here unless --base-url is given), max_tokens
    small, interleaved, median; and the same pair against a canned local stub server, which
    isolates the client-side cost from the model's.

Prints a Markdown table; ``--out FILE`` also writes the results as JSON.

    python benchmarks/bench_models.py --runs 5 --out bench_models.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from ellora.models import ModelSettings, create_chat_model
from ellora.models._common import to_openai_messages
from ellora.models.embedded import EmbeddedChatModel, default_gguf_path, template_messages
from ellora.models.openai_compatible import OpenAICompatibleChatModel
from langchain_core.messages import HumanMessage, SystemMessage

MESSAGES = [
    SystemMessage("You are an HPC assistant. Answer with C code and short comments."),
    HumanMessage(
        "Write a C function that sums an array of doubles in parallel with OpenMP, "
        "then explain how the reduction clause avoids a data race."
    ),
]


def interleave(a: Callable[[], float], b: Callable[[], float], runs: int) -> tuple[list, list]:
    """Run ``a`` and ``b`` alternately (ABBA order) ``runs`` times each; their measurements."""
    results_a, results_b = [], []
    for i in range(runs):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        x, y = first(), second()
        results_a.append(x if first is a else y)
        results_b.append(y if first is a else x)
    return results_a, results_b


def bench_embedded(args: argparse.Namespace) -> dict[str, Any]:
    """Tokens/s of the embedded provider vs raw create_chat_completion on the same Llama."""
    settings = ModelSettings(
        n_ctx=args.n_ctx, n_threads=args.n_threads, max_tokens=args.max_tokens, seed=1234
    )
    model = create_chat_model(settings)
    assert isinstance(model, EmbeddedChatModel)
    llama = model.loaded().llama
    turns = template_messages(MESSAGES)
    raw_params = {
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "max_tokens": settings.max_tokens,
        "seed": settings.seed,
        "stop": [],
    }

    def provider() -> float:
        start = time.perf_counter()
        reply = model.invoke(MESSAGES)
        return reply.usage_metadata["output_tokens"] / (time.perf_counter() - start)

    def raw() -> float:
        start = time.perf_counter()
        result = llama.create_chat_completion(messages=turns, **raw_params)
        return result["usage"]["completion_tokens"] / (time.perf_counter() - start)

    provider(), raw()  # warm-up: page cache, KV cache, thread pool
    ours, theirs = interleave(provider, raw, args.runs)
    return _row("embedded tokens/s (higher is better)", ours, theirs, "tokens/s", args.runs)


def _row(name: str, ours: list[float], theirs: list[float], unit: str, runs: int) -> dict:
    provider, raw = statistics.median(ours), statistics.median(theirs)
    return {
        "benchmark": name,
        "unit": unit,
        "runs": runs,
        "provider_median": provider,
        "raw_median": raw,
        "ratio": provider / raw if raw else float("nan"),
        "provider_runs": ours,
        "raw_runs": theirs,
    }


def bench_http(name: str, base_url: str, runs: int, max_tokens: int) -> dict[str, Any]:
    """Wall ms per call: the provider vs a raw httpx POST of the same payload."""
    model = OpenAICompatibleChatModel(
        base_url=base_url, max_tokens=max_tokens, temperature=0.0, seed=1234, max_retries=0
    )
    payload = {
        "model": model.model,
        "messages": to_openai_messages(MESSAGES),
        "temperature": 0.0,
        "top_p": model.top_p,
        "max_tokens": max_tokens,
        "stream": False,
        "seed": 1234,
    }
    url = model.url
    with httpx.Client(timeout=120.0) as client:

        def provider() -> float:
            start = time.perf_counter()
            model.invoke(MESSAGES)
            return (time.perf_counter() - start) * 1000

        def raw() -> float:
            start = time.perf_counter()
            response = client.post(url, json=payload)
            response.raise_for_status()
            response.json()
            return (time.perf_counter() - start) * 1000

        provider(), raw()  # warm-up: connections, server caches
        ours, theirs = interleave(provider, raw, runs)
    model.close()
    row = _row(name, ours, theirs, "ms/call", runs)
    row["overhead_ms"] = row["provider_median"] - row["raw_median"]
    return row


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_llama_server(args: argparse.Namespace, log: Path) -> tuple[subprocess.Popen, str]:
    """Start llama-cpp-python's server on the default GGUF; wait for /v1/models."""
    port = free_port()
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
        str(args.n_ctx),
        "--n_threads",
        str(args.n_threads),
        "--chat_format",
        "gemma",
    ]
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.25)
    process.kill()
    raise SystemExit(f"llama_cpp.server did not start; see {log}")


def start_stub_server() -> tuple[ThreadingHTTPServer, str]:
    """A local server that answers every POST at once with a canned chat completion."""
    body = json.dumps(
        {
            "id": "stub",
            "model": "stub",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "ok"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 40, "completion_tokens": 1, "total_tokens": 41},
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| benchmark | unit | runs | provider (median) | raw (median) | ratio provider/raw |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['benchmark']} | {row['unit']} | {row['runs']} | "
            f"{row['provider_median']:.2f} | {row['raw_median']:.2f} | {row['ratio']:.3f} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="embedded runs per side")
    parser.add_argument("--max-tokens", type=int, default=96, help="embedded max_tokens")
    parser.add_argument("--http-runs", type=int, default=15, help="HTTP runs per side")
    parser.add_argument("--http-max-tokens", type=int, default=4)
    parser.add_argument("--n-threads", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--base-url", help="use this server instead of starting one")
    parser.add_argument("--skip", choices=["embedded", "http"], action="append", default=[])
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    return parser.parse_args(argv)


def run_http(args: argparse.Namespace, log: Path) -> list[dict[str, Any]]:
    """The openai-compatible rows: real llama.cpp server, then the stub server."""
    process = None
    if args.base_url is None:
        process, base_url = start_llama_server(args, log)
    else:
        base_url = args.base_url
    stub, stub_url = start_stub_server()
    try:
        return [
            bench_http(
                "openai-compatible vs raw httpx, llama.cpp server",
                base_url,
                args.http_runs,
                args.http_max_tokens,
            ),
            bench_http(
                "openai-compatible vs raw httpx, canned stub server",
                stub_url,
                args.http_runs * 4,
                args.http_max_tokens,
            ),
        ]
    finally:
        stub.shutdown()
        if process is not None:
            process.terminate()
            process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table, write JSON if asked."""
    args = parse_args(argv)
    rows = []
    if "embedded" not in args.skip:
        rows.append(bench_embedded(args))
    if "http" not in args.skip:
        rows.extend(run_http(args, Path(os.environ.get("TMPDIR", "/tmp")) / "bench_server.log"))
    print(markdown(rows))
    for row in rows:
        if "overhead_ms" in row:
            print(f"- {row['benchmark']}: client overhead {row['overhead_ms']:.2f} ms/call")
    if args.out is not None:
        report = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "n_threads": args.n_threads,
            "n_ctx": args.n_ctx,
            "max_tokens": args.max_tokens,
            "http_max_tokens": args.http_max_tokens,
            "results": rows,
        }
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
