"""``ellora serve``: a local OpenAI-compatible model server, and the client config that
talks to it.

Engines: ``vllm`` (``vllm serve`` on GPUs; LoRA adapters through ``--enable-lora
--lora-modules name=path``) and ``llama.cpp`` (``python -m llama_cpp.server`` on a GGUF, CPU).
The server is a child process: this module checks the port before starting it, polls
``GET /v1/models`` until it answers, and stops it (SIGTERM, then SIGKILL) on SIGINT/SIGTERM.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from ellora.models import ModelUnavailable
from ellora.models.config import ServeSettings
from ellora.models.gguf import resolve_gguf_path


class ServeError(ModelUnavailable):
    """The server cannot be started or did not come up; the message says what to do."""


def base_url(settings: ServeSettings) -> str:
    """The ``/v1`` URL clients use."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    return f"http://{host}:{settings.port}/v1"


def served_name(settings: ServeSettings, model: str) -> str:
    """The model name clients send: the configured one, else the file or folder name."""
    return settings.served_model_name or Path(model).stem or model


def vllm_command(settings: ServeSettings) -> list[str]:
    """The ``vllm serve`` command for the base model with its LoRA adapters."""
    if not settings.base_model:
        raise ServeError("vllm needs serve.base_model: a model folder or hub id (--model)")
    command = [
        "vllm",
        "serve",
        settings.base_model,
        "--host",
        settings.host,
        "--port",
        str(settings.port),
        "--served-model-name",
        served_name(settings, settings.base_model),
        "--tensor-parallel-size",
        str(settings.tensor_parallel_size),
        "--gpu-memory-utilization",
        str(settings.gpu_memory_utilization),
    ]
    if settings.max_model_len:
        command += ["--max-model-len", str(settings.max_model_len)]
    if settings.lora_modules:
        command += [
            "--enable-lora",
            "--max-lora-rank",
            str(settings.max_lora_rank),
            "--lora-modules",
        ]
        command += [f"{name}={path}" for name, path in settings.lora_modules.items()]
    return command + list(settings.extra_args)


def llama_cpp_command(settings: ServeSettings) -> list[str]:
    """The ``python -m llama_cpp.server`` command for the GGUF (default: Gemma 3 270M)."""
    gguf = resolve_gguf_path(settings.base_model)
    chat_format = settings.chat_format or ("gemma" if "gemma" in gguf.name.lower() else None)
    command = [
        sys.executable,
        "-m",
        "ellora.models.llama_cpp_server",  # llama_cpp.server, loading as the embedded provider
        "--model",
        str(gguf),
        "--model_alias",
        served_name(settings, str(gguf)),
        "--host",
        settings.host,
        "--port",
        str(settings.port),
        "--n_ctx",
        str(settings.max_model_len or 4096),
    ]
    if settings.n_threads:
        command += ["--n_threads", str(settings.n_threads)]
    if chat_format:
        command += ["--chat_format", chat_format]
    if settings.lora_modules:  # one GGUF LoRA (ellora train export-gguf), served by its name
        name, path = _llama_cpp_lora(settings)
        command[command.index("--model_alias") + 1] = name
        command += ["--lora_path", path]
    return command + list(settings.extra_args)


def _llama_cpp_lora(settings: ServeSettings) -> tuple[str, str]:
    if len(settings.lora_modules) > 1:
        raise ServeError("llama.cpp serves one LoRA adapter at a time: give one --lora NAME=FILE")
    name, path = next(iter(settings.lora_modules.items()))
    from ellora.models.gguf import is_gguf_file

    if not is_gguf_file(path):
        what = "not found" if not Path(path).expanduser().exists() else "not a GGUF file"
        raise ServeError(f"--lora {name}={path}: {what}: llama.cpp needs a GGUF LoRA file; "
                         "write one with 'ellora train export-gguf ADAPTER --output FILE.gguf'")
    return name, str(Path(path).resolve())


def client_model_name(settings: ServeSettings) -> str:
    """The model a client should ask for: the first LoRA adapter when there are some."""
    if settings.engine == "vllm":
        if settings.lora_modules:
            return next(iter(settings.lora_modules))
        return served_name(settings, settings.base_model or "model")
    if settings.lora_modules:
        return next(iter(settings.lora_modules))
    return served_name(settings, str(resolve_gguf_path(settings.base_model)))


def client_toml(settings: ServeSettings) -> str:
    """An ``ellora.toml`` ``[model]`` section for the openai-compatible provider."""
    lines = [
        "# written by 'ellora serve': copy into ellora.toml to use this server",
        "[model]",
        'provider = "openai-compatible"',
        f'base_url = "{base_url(settings)}"',
        f'model = "{client_model_name(settings)}"',
    ]
    if settings.max_model_len:
        lines.append(f"n_ctx = {settings.max_model_len}")
    return "\n".join(lines) + "\n"


def check_port_free(host: str, port: int) -> None:
    """Raise ServeError (one line) when something already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ServeError(
                f"port {port} on {host} is already in use ({exc.strerror}): stop the program "
                "using it or pass --port"
            ) from None


def require_engine(settings: ServeSettings) -> None:
    """Raise ServeError when the engine's program or package is not installed."""
    if settings.engine == "vllm" and shutil.which("vllm") is None:
        raise ServeError(
            "vllm is not installed here: pip install vllm on a GPU machine, "
            "or use --dry-run to print the command"
        )
    if settings.engine == "llama.cpp":
        try:
            import llama_cpp.server  # noqa: F401
        except ImportError:
            raise ServeError(
                "llama-cpp-python's server is not installed: pip install 'llama-cpp-python[server]'"
            ) from None


def server_command(settings: ServeSettings) -> list[str]:
    """The command for the configured engine."""
    return vllm_command(settings) if settings.engine == "vllm" else llama_cpp_command(settings)


class ServerProcess:
    """A model server child process with its log file."""

    def __init__(self, command: list[str], log_path: Path) -> None:
        self.command = command
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the child (its output goes to the log file)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the server log, on one line."""
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def wait_healthy(self, url: str, timeout_s: float, poll_s: float = 0.25) -> None:
        """Poll ``GET url/models`` until it answers 200; ServeError if the child dies or
        the time runs out."""
        import httpx

        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServeError(
                    f"the server exited with status {self.process.returncode} "
                    f"before answering ({self.log_tail()}); log: {self.log_path}"
                )
            try:
                if httpx.get(f"{url}/models", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(poll_s)
        self.stop()
        raise ServeError(
            f"the server did not answer {url}/models within {timeout_s:.0f} s; log: {self.log_path}"
        )

    def stop(self, grace_s: float = 15.0) -> int | None:
        """SIGTERM the child's process group, SIGKILL after ``grace_s``; its exit status."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        _signal_group(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(self.process.pid, signal.SIGKILL)
            return self.process.wait()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    import os

    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def run_until_signal(server: ServerProcess, on_ready: Callable[[], None]) -> int:
    """Call ``on_ready``, then wait for SIGINT/SIGTERM (stop the server, return 0) or for the
    server to exit by itself (ServeError)."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        on_ready()
        assert server.process is not None
        while not stop.wait(0.5):
            if server.process.poll() is not None:
                raise ServeError(
                    f"the server exited with status {server.process.returncode} "
                    f"({server.log_tail()}); log: {server.log_path}"
                )
        return 0
    finally:
        server.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)
