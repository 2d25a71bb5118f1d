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


def create_task_sandbox(settings: Settings) -> Sandbox:
    """The configured sandbox, with the toolchain prefixes outside the system dirs visible."""
    from pathlib import Path

    from ellora.sandbox import create_sandbox
    from ellora.tools.toolchain import default_kokkos_prefixes

    prefixes = [
        p for p in default_kokkos_prefixes(settings.toolchain.kokkos_prefix) if Path(p).is_dir()
    ]
    return create_sandbox(
        settings.sandbox.backend, ro_binds=[*settings.sandbox.ro_binds, *prefixes]
    )


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
        return Limits(
            wall_s=sandbox.wall_s,
            cpu_s=sandbox.cpu_s,
            memory_mb=sandbox.memory_mb,
            procs=sandbox.procs,
            disk_mb=sandbox.disk_mb,
        )


def services_from_settings(settings: Settings, model_factory=None, retriever=None) -> Services:
    """Services with the configured sandbox and toolchain; the configured model unless a
    ``model_factory`` is given (tests and benchmarks pass their own)."""
    from ellora.models import create_chat_model
    from ellora.tools.toolchain import detect_toolchain

    sandbox = create_task_sandbox(settings)
    return Services(
        settings=settings,
        sandbox=sandbox,
        model_factory=model_factory or (lambda: create_chat_model(settings.model)),
        toolchain_factory=lambda: detect_toolchain(sandbox, settings=settings.toolchain),
        retriever=retriever,
    )
