"""``ellora serve``: the vLLM command it builds (vLLM cannot run here), the port check, and a
real llama.cpp server started by the command, used by the openai-compatible provider through
the client config it wrote, and stopped with SIGINT. Everything listens on 127.0.0.1."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import tomllib

import pytest
from ellora.agents.cli.main import main
from ellora.models import ModelSettings, create_chat_model
from ellora.models.config import ServeSettings
from ellora.models.serve import ServeError, check_port_free, client_toml, vllm_command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_vllm_command_has_adapters_parallelism_and_memory_share():
    settings = ServeSettings(
        engine="vllm", base_model="/models/codellama-7b", port=8100,
        lora_modules={"kokkos": "/runs/kokkos/adapter", "fortran": "/runs/f/adapter"},
        tensor_parallel_size=2, gpu_memory_utilization=0.85, max_model_len=4096,
    )
    command = vllm_command(settings)
    assert command[:3] == ["vllm", "serve", "/models/codellama-7b"]
    pairs = dict(zip(command[3::2], command[4::2], strict=False))
    assert pairs["--tensor-parallel-size"] == "2"
    assert pairs["--gpu-memory-utilization"] == "0.85"
    assert pairs["--port"] == "8100" and pairs["--max-model-len"] == "4096"
    assert "--enable-lora" in command
    at = command.index("--lora-modules")
    assert command[at + 1 : at + 3] == ["kokkos=/runs/kokkos/adapter", "fortran=/runs/f/adapter"]
    config = tomllib.loads(client_toml(settings))["model"]
    assert config == {"provider": "openai-compatible", "base_url": "http://127.0.0.1:8100/v1",
                      "model": "kokkos", "n_ctx": 4096}
    assert ModelSettings(**config).provider == "openai-compatible"


def test_vllm_dry_run_from_the_cli(capsys):
    code = main(["serve", "--engine", "vllm", "--model", "/m/base", "--lora", "k=/a/k",
                 "--tensor-parallel-size", "4", "--dry-run"])
    assert code == 0
    first, *config = capsys.readouterr().out.splitlines()
    command = json.loads(first)["command"]
    assert command[:3] == ["vllm", "serve", "/m/base"] and "k=/a/k" in command
    assert 'model = "k"' in config
    assert main(["serve", "--engine", "vllm", "--lora", "broken", "--dry-run"]) == 2
    assert "NAME=PATH" in capsys.readouterr().err


def test_port_in_use_is_a_one_line_error_before_starting(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServeError, match=f"port {port} on 127.0.0.1 is already in use"):
            check_port_free("127.0.0.1", port)
        pytest.importorskip("llama_cpp.server")
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already in use" in err and "--port" in err


def read_until(process: subprocess.Popen, marker: str, limit_s: float) -> list[str]:
    """Lines of the process's stdout up to the one containing ``marker``."""
    lines: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if marker in line:
                return lines
    process.kill()
    pytest.fail(f"no {marker!r} within {limit_s} s: {lines} {process.stderr.read()}")


def test_llama_cpp_serve_health_chat_and_clean_stop(tmp_path):
    pytest.importorskip("llama_cpp.server")
    port = free_port()
    client = tmp_path / "client.toml"
    command = [sys.executable, "-m", "ellora.agents.cli.main", "serve", "--engine", "llama.cpp",
               "--port", str(port), "--max-model-len", "1024", "--client-config", str(client),
               "--set", "serve.n_threads=2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=os.environ.copy())
    try:
        lines = read_until(process, "serving", limit_s=180)
        assert f"http://127.0.0.1:{port}/v1" in lines[-1]
        config = tomllib.loads(client.read_text())["model"]
        model = create_chat_model(ModelSettings(**config, max_tokens=8, temperature=0.0))
        reply = model.invoke("Name one parallel programming model.")
        assert reply.usage_metadata["output_tokens"] > 0
        assert reply.response_metadata["model"] == config["model"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert "server stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    check_port_free("127.0.0.1", port)  # the llama.cpp child is gone with it


def test_llama_cpp_lora_is_checked_by_its_content_not_its_name(tmp_path, capsys):
    """--lora on llama.cpp: a missing file and a file that is not GGUF (whatever its name)
    are one-line errors naming the flag and the export command; a GGUF file under any
    name is passed on."""
    fake = tmp_path / "adapter.gguf"
    fake.write_text("not a gguf")
    real = tmp_path / "adapter.bin"
    real.write_bytes(b"GGUF" + bytes(60))
    for path, why in ((tmp_path / "absent.gguf", "not found"), (fake, "not a GGUF file")):
        assert main(["serve", "--engine", "llama.cpp", "--lora", f"mine={path}",
                     "--dry-run"]) == 2
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1 and f"--lora mine={path}: {why}" in error
        assert "ellora train export-gguf" in error
    assert main(["serve", "--engine", "llama.cpp", "--lora", f"mine={real}", "--dry-run"]) == 0
    command = json.loads(capsys.readouterr().out.splitlines()[0])["command"]
    assert command[command.index("--lora_path") + 1] == str(real.resolve())
