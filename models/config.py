"""Configuration of the model provider (one pydantic model, nested in the root settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ProviderName = Literal["embedded", "openai-compatible"]


class ModelSettings(BaseModel):
    """Which model the agents talk to, and how."""

    provider: ProviderName = Field("embedded", description="embedded | openai-compatible")
    gguf_path: str | None = Field(
        None, description="GGUF file for the embedded provider; default: the Gemma 3 270M from PyPI"
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
    prompt_format: str = Field("chat", description="chat | a named instruction template")
