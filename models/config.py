"""Configuration of the model provider (one pydantic model, nested in the root settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ProviderName = Literal["embedded", "openai-compatible", "transformers"]


class ModelSettings(BaseModel):
    """Which model the agents talk to, and how."""

    provider: ProviderName = Field(
        "embedded", description="embedded | openai-compatible | transformers"
    )
    gguf_path: str | None = Field(
        None, description="GGUF file for the embedded provider; default: the Gemma 3 270M from PyPI"
    )
    lora_path: str | None = Field(
        None, description="embedded provider: a GGUF LoRA adapter applied to the GGUF "
        "(from 'ellora train export-gguf')"
    )
    n_ctx: int = Field(8192, description="context window for the embedded provider")
    n_threads: int | None = Field(None, description="CPU threads for llama.cpp (default: all)")
    base_url: str = Field("http://127.0.0.1:8000/v1", description="OpenAI-compatible endpoint")
    model: str = Field("default", description="model name sent to the endpoint")
    api_key_env: str = Field("ELLORA_API_KEY", description="env variable holding the API key")
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_tokens: int = Field(768, gt=0)
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(3, ge=0)
    retry_base_delay_s: float = Field(
        0.5, ge=0.0, description="first retry delay; doubles each try (Retry-After wins)"
    )
    retry_max_delay_s: float = Field(8.0, ge=0.0, description="cap on one retry delay")
    seed: int | None = Field(1234, description="sampling seed where the provider supports one")
    prompt_format: str = Field(
        "chat", description="chat | a named template (ellora.models.prompt_formats): transformers"
    )
    model_path: str | None = Field(
        None,
        description="transformers provider: a Hugging Face model directory or a .gguf file "
        "(default: the Gemma 3 270M GGUF)",
    )
    adapter_path: str | None = Field(
        None, description="transformers provider: a PEFT (LoRA) adapter directory to apply"
    )
    device: str = Field("auto", description="transformers provider: auto | cpu | cuda | cuda:N")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="transformers provider weights: auto = bfloat16 on GPU, float32 on CPU"
    )


class ServeSettings(BaseModel):
    """How ``ellora serve`` starts a local OpenAI-compatible server."""

    engine: Literal["vllm", "llama.cpp"] = Field("llama.cpp", description="vllm | llama.cpp")
    host: str = Field("127.0.0.1", description="address the server listens on")
    port: int = Field(8000, ge=1, le=65535)
    base_model: str | None = Field(
        None,
        description="vllm: model directory or hub id; llama.cpp: a .gguf file (default: Gemma 3 270M)",
    )
    served_model_name: str | None = Field(None, description="model name clients send")
    lora_modules: dict[str, str] = Field(
        {}, description="vllm: adapter name -> adapter directory (served with --enable-lora)"
    )
    max_lora_rank: int = Field(16, gt=0, description="vllm --max-lora-rank")
    tensor_parallel_size: int = Field(1, ge=1, description="vllm: GPUs one model spans")
    gpu_memory_utilization: float = Field(0.9, gt=0.0, le=1.0, description="vllm: GPU share")
    max_model_len: int | None = Field(None, description="context length (vllm / llama.cpp n_ctx)")
    n_threads: int | None = Field(None, description="llama.cpp: CPU threads")
    chat_format: str | None = Field(
        None, description="llama.cpp chat format (default: gemma for Gemma GGUFs)"
    )
    extra_args: list[str] = Field([], description="more arguments passed to the server as is")
    startup_timeout_s: float = Field(180.0, gt=0, description="wait this long for /v1/models")
