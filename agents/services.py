"""The injected seams every node uses: model, sandbox, toolchain, retriever and settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ellora.sandbox import Limits

if TYPE_CHECKING:
    from ellora.agents.settings import Settings
    from ellora.sandbox import Sandbox
    from ellora.tools.toolchain import Toolchain
    from langchain_core.language_models import BaseChatModel


@dataclass
class Services:
    """What a graph needs from the outside world; tests pass real or scripted parts here."""

    settings: Settings
    sandbox: Sandbox
    model_factory: Callable[[], BaseChatModel]
    toolchain_factory: Callable[[], Toolchain]
    retriever: Any = None
    _model: Any = field(default=None, repr=False)
    _toolchain: Any = field(default=None, repr=False)

    @property
    def model(self) -> BaseChatModel:
        """The chat model, created on first use (loading a GGUF takes a moment)."""
        if self._model is None:
            self._model = self.model_factory()
        return self._model

    @property
    def toolchain(self) -> Toolchain:
        if self._toolchain is None:
            self._toolchain = self.toolchain_factory()
        return self._toolchain

    @property
    def limits(self) -> Limits:
        sandbox = self.settings.sandbox
        return Limits(wall_s=sandbox.wall_s, cpu_s=sandbox.cpu_s, memory_mb=sandbox.memory_mb,
                      procs=sandbox.procs)
