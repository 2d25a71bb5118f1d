"""``ellora serve``: start a local OpenAI-compatible server and write the client config.

    ellora serve                                    # llama.cpp on the Gemma 3 270M GGUF
    ellora serve --engine llama.cpp --model m.gguf --port 8001
    ellora serve --engine vllm --model /models/base --lora kokkos=runs/kokkos/adapter \\
        --tensor-parallel-size 2 --gpu-memory-utilization 0.85
    ellora serve --engine vllm ... --dry-run        # print the command and the config only

Stops the server cleanly on Ctrl-C or SIGTERM. Settings: the ``[serve]`` section of
ellora.toml, ``ELLORA_SERVE__*``, ``--set serve.x=y``; the flags here win.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from ellora.agents.cli.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the serve options."""
    parser.add_argument("--engine", choices=["vllm", "llama.cpp"], help="default: serve.engine")
    parser.add_argument("--model", help="vllm: model folder/id; llama.cpp: .gguf file")
    parser.add_argument(
        "--lora",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="serve this LoRA adapter under NAME (vllm: repeatable, an adapter folder; "
        "llama.cpp: one GGUF LoRA file from 'ellora train export-gguf')",
    )
    parser.add_argument("--host", help="default: serve.host (127.0.0.1)")
    parser.add_argument("--port", type=int, help="default: serve.port (8000)")
    parser.add_argument("--tensor-parallel-size", type=int, help="vllm: GPUs per model")
    parser.add_argument("--gpu-memory-utilization", type=float, help="vllm: share of GPU memory")
    parser.add_argument("--max-model-len", type=int, help="context length")
    parser.add_argument(
        "--client-config",
        default="ellora-client.toml",
        help="where to write the client's [model] section (default: %(default)s)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the command and the client config; start nothing",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. serve.n_threads=2",
    )


def _settings(args: argparse.Namespace) -> Any:
    from ellora.agents.settings import load_settings, parse_overrides

    serve = load_settings(parse_overrides(args.set)).serve
    updates: dict[str, Any] = {
        "engine": args.engine,
        "base_model": args.model,
        "host": args.host,
        "port": args.port,
        "tensor_parallel_size": args.tensor_parallel_size,
        "gpu_memory_utilization": args.gpu_memory_utilization,
        "max_model_len": args.max_model_len,
    }
    if args.lora:
        updates["lora_modules"] = dict(_lora_pair(item) for item in args.lora)
    merged = {**serve.model_dump(), **{k: v for k, v in updates.items() if v is not None}}
    try:
        return type(serve).model_validate(merged)
    except ValueError as error:
        raise UserError(f"bad serve option: {error}".splitlines()[0]) from None


def _lora_pair(item: str) -> tuple[str, str]:
    name, sep, path = item.partition("=")
    if not sep or not name or not path:
        raise UserError(f"bad --lora {item!r}: write it as NAME=PATH")
    return name, path


def run(args: argparse.Namespace) -> int:
    """Build the command, write the client config, then serve until interrupted."""
    from ellora.models import ModelUnavailable
    from ellora.models import serve as serving

    settings = _settings(args)
    try:
        command = serving.server_command(settings)
        config = serving.client_toml(settings)
        if args.dry_run:
            print(json.dumps({"command": command, "endpoint": serving.base_url(settings)}))
            print(config, end="")
            return 0
        serving.require_engine(settings)
        serving.check_port_free(settings.host, settings.port)
        return _serve(settings, command, config, Path(args.client_config))
    except ModelUnavailable as error:
        raise UserError(str(error)) from None


def _serve(settings: Any, command: list[str], config: str, client_path: Path) -> int:
    from ellora.agents.settings import load_settings
    from ellora.models import serve as serving

    log = load_settings().state_dir / "serve" / f"{settings.engine}-{settings.port}.log"
    server = serving.ServerProcess(command, log)
    print(f"starting: {shlex.join(command)}", flush=True)
    server.start()
    try:
        server.wait_healthy(serving.base_url(settings), settings.startup_timeout_s)
    except BaseException:
        server.stop()
        raise

    def ready() -> None:
        client_path.write_text(config)
        print(
            f"serving {serving.client_model_name(settings)} at {serving.base_url(settings)} "
            f"(client config: {client_path}; log: {log}); Ctrl-C stops",
            flush=True,
        )

    code = serving.run_until_signal(server, ready)
    print("server stopped", flush=True)
    return code
