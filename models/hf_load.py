"""Loading Hugging Face causal LMs for the ``transformers`` provider and for training.

A model source is a Hugging Face model directory or a GGUF file. transformers dequantizes a
GGUF into ordinary torch weights (``gguf_file=``; needs the ``gguf`` package), which takes a
minute or two for the Gemma 3 270M, so the result is saved once as a model directory under
``$XDG_CACHE_HOME/ellora/gguf-hf/`` (keyed by the file's name, size and mtime) and reused.
Nothing is fetched from a hub: paths must exist locally.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from ellora.models import ModelUnavailable
from ellora.models.gguf import GEMMA3_TEMPLATE, resolve_gguf_path

_CONVERT_LOCK = threading.Lock()


def cache_root() -> Path:
    """Where dequantized GGUF models are kept."""
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "ellora" / "gguf-hf"


def resolve_model_source(path: str | os.PathLike[str] | None) -> Path:
    """The configured model directory or GGUF file; default: the Gemma 3 270M GGUF."""
    if path is None:
        return resolve_gguf_path(None)
    source = Path(path).expanduser()
    if source.is_dir():
        if not (source / "config.json").is_file():
            raise ModelUnavailable(
                f"model directory {source} has no config.json: point it at a Hugging Face "
                "model directory (config.json, weights, tokenizer) or a .gguf file"
            )
        return source.resolve()
    if source.is_file() and source.suffix == ".gguf":
        return source.resolve()
    raise ModelUnavailable(
        f"model {source} not found: give a Hugging Face model directory or a .gguf file"
    )


def model_directory(source: Path) -> Path:
    """A Hugging Face directory for ``source``: itself, or the cached conversion of a GGUF."""
    if source.is_dir():
        return source
    info = source.stat()
    target = cache_root() / f"{source.stem}-{info.st_size}-{info.st_mtime_ns}"
    with _CONVERT_LOCK:
        if not (target / "config.json").is_file():
            convert_gguf(source, target)
    return target


def convert_gguf(gguf: Path, target: Path) -> Path:
    """Dequantize ``gguf`` with transformers and save model and tokenizer into ``target``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _require_gguf()
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32, **_dequantize_option()
        )
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        os.replace(partial, target)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelUnavailable(
            f"transformers could not load the GGUF {gguf} ({exc}): use a GGUF of an "
            "architecture transformers supports, or a Hugging Face model directory"
        ) from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _dequantize_option() -> dict[str, Any]:
    """Ask for plain dense weights: newer transformers could keep GGUF blocks packed (which
    cannot be saved); older ones always dequantize and have no ``GgufConfig``."""
    try:
        from transformers import GgufConfig
    except ImportError:
        return {}
    return {"quantization_config": GgufConfig(dequantize=True)}


def _require_gguf() -> None:
    try:
        import gguf  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailable(
            "loading a .gguf file with transformers needs the gguf package: pip install gguf"
        ) from exc


def pick_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelUnavailable(
            f"device {device!r} asked for but no CUDA GPU is visible: set model.device = cpu"
        )
    return device


def pick_dtype(dtype: str, device: str) -> Any:
    """The torch dtype: ``auto`` is bfloat16 on a GPU, float32 on the CPU."""
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, dtype)


def load_tokenizer(model_dir: Path) -> Any:
    """The tokenizer, with a pad token and (for Gemma without one) Gemma 3's chat template."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(tokenizer, "chat_template", None) is None and _is_gemma(model_dir):
        tokenizer.chat_template = GEMMA3_TEMPLATE
    return tokenizer


def _is_gemma(model_dir: Path) -> bool:
    import json

    config = json.loads((model_dir / "config.json").read_text())
    return str(config.get("model_type", "")).startswith("gemma")


def load_causal_lm(model_dir: Path, device: str = "cpu", dtype: Any = None) -> Any:
    """The model in ``model_dir`` on ``device`` in ``dtype`` (float32 if None), eval mode."""
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype)
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"cannot load the model in {model_dir} ({exc})") from exc
    return model.to(device).eval()


def attach_adapter(model: Any, adapter: str | os.PathLike[str]) -> Any:
    """``model`` wrapped with the PEFT adapter in directory ``adapter``."""
    from peft import PeftModel

    folder = Path(adapter).expanduser()
    if not (folder / "adapter_config.json").is_file():
        raise ModelUnavailable(
            f"adapter {folder} has no adapter_config.json: point model.adapter_path at the "
            "adapter directory that 'ellora train run' wrote (OUTPUT/adapter)"
        )
    return PeftModel.from_pretrained(model, str(folder)).eval()


@functools.lru_cache(maxsize=4)
def load_for_inference(
    source: str | None, adapter: str | None, device: str, dtype: str
) -> tuple[Any, Any, threading.Lock]:
    """(model, tokenizer, lock), loaded once per process for these arguments."""
    model_dir = model_directory(resolve_model_source(source))
    where = pick_device(device)
    tokenizer = load_tokenizer(model_dir)
    model = load_causal_lm(model_dir, where, pick_dtype(dtype, where))
    if adapter is not None:
        model = attach_adapter(model, adapter)
    return model, tokenizer, threading.Lock()
