"""The one settings model: ``ellora.toml`` (project, then ``~/.config/ellora/``), environment
variables with prefix ``ELLORA_`` (nested with ``__``, e.g. ``ELLORA_MODEL__PROVIDER``), and
dotted CLI overrides (``--set model.provider=openai-compatible``), in rising priority.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from ellora.agents.cli.errors import UserError
from ellora.agents.lsp.config import LspSettings
from ellora.evals.config import EvalSettings
from ellora.knowledge_graph.config import IndexSettings
from ellora.models.config import ModelSettings, ServeSettings
from ellora.models.train.config import TrainSettings
from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_NAME = "ellora.toml"


class SandboxSettings(BaseModel):
    """Limits for every compile and run of generated code."""

    backend: str = Field("local", description="sandbox backend name")
    wall_s: float = Field(120.0, gt=0, description="wall-clock limit per command")
    cpu_s: float = Field(240.0, gt=0, description="CPU-time limit per command")
    memory_mb: int = Field(8192, gt=0, description="address-space limit per command")
    procs: int = Field(512, gt=0, description="process limit per command")
    disk_mb: int = Field(
        2048, gt=0, description="how much one command may add to its workspace (disk quota)"
    )
    keep_workspaces: bool = Field(False, description="keep task workspaces for inspection")
    ro_binds: list[str] = Field([], description="extra host paths visible read-only inside")


class ToolchainSettings(BaseModel):
    """Where to find libraries that are not in the system paths."""

    kokkos_prefix: str | None = Field(None, description="a Kokkos install prefix (Spack, CMake)")
    cxx: str | None = Field(None, description="C++ compiler to use (default: g++, then clang++)")
    extra_flags: list[str] = Field(
        [], description="flags added to every compile, e.g. ['-march=native', '-DNDEBUG']"
    )
    extra_libraries: list[str] = Field([], description="link flags added to every build")


class AgentSettings(BaseModel):
    """How the agent graph works on a task."""

    max_fix_attempts: int = Field(3, ge=0, description="compile/test fix rounds back to the coder")
    threads: list[int] = Field([1, 2], description="thread counts the profiler measures")
    timing_repeats: int = Field(5, ge=1, description="timed runs per configuration (median)")
    timing_max_rounds: int = Field(
        7, ge=3, description="the profiler times 3 interleaved rounds, and more (up to this "
        "many) while the rounds' speedups at the top thread count differ by over 20%")
    test_sizes: list[int] = Field([0, 1, 7, 1000, 100003], description="differential test sizes")
    test_draws: int = Field(
        3, ge=1, description="random inputs per test size (seeds 1000+size, 2000+size, ...): "
        "a wrong result that shows only for some values of one element passes one draw by luck")
    timing_size: int = Field(20_000_000, gt=0, description="problem size for timing runs")
    min_timing_s: float = Field(
        0.03, ge=0,
        description="grow the timing size (harnesses that take --size) until the original's "
        "call takes at least this long, so start-up and per-region overheads do not decide "
        "the speedup; 0 keeps timing_size")
    max_timing_growth: int = Field(
        4096, ge=1, description="the most the timing size is multiplied by (min_timing_s); "
        "a size the sandbox's memory or the harness refuses ends the growth earlier")
    race_check_counts: list[int] = Field(
        [3, 4],
        description="extra thread/rank counts the largest test reruns at, to expose data races",
    )
    race_check_repeats: int = Field(2, ge=0, description="reruns per race-check count")
    rel_tolerance: float = Field(1e-5, gt=0, description="relative tolerance for outputs")
    abs_tolerance: float = Field(1e-8, ge=0, description="absolute tolerance for outputs")
    test_command: str | None = Field(
        None,
        description="your own test command (run with sh -c "
        "in a sandboxed copy of the project, the change applied)",
    )
    project_dir: str | None = Field(
        None, description="project root for test_command (default: the file's directory)"
    )
    hotspots: bool = Field(True, description="count the candidate's instructions per function "
                           "with callgrind (deterministic hotspots)")
    optimize_round: bool = Field(
        True,
        description="try known-safe variants (schedule, collapse)"
        " and keep one only if it is tested and faster",
    )
    prefer_transformations: bool = Field(True, description="try verified transformations first")
    allow_unproven: bool = Field(
        False, description="let the model try loops the dependence analysis could not prove"
    )
    mpi_result: Literal["auto", "all", "root"] = Field(
        "auto", description="where an MPI port leaves its results: every rank (all), rank 0 "
        "(root: gathers and reductions to rank 0 only), or as the task says (auto: root when "
        "it says the result is needed on rank 0, else all)")
    min_speedup: float = Field(
        1.0, ge=0, description="a verified port is offered only when its speedup at the "
        "largest thread count is above this (otherwise the original is kept); 0 offers any")


class Settings(BaseSettings):
    """Everything configurable in Ellora."""

    model_config = SettingsConfigDict(
        env_prefix="ELLORA_", env_nested_delimiter="__", extra="forbid"
    )

    model: ModelSettings = Field(default_factory=ModelSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    toolchain: ToolchainSettings = Field(default_factory=ToolchainSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    evals: EvalSettings = Field(default_factory=EvalSettings)
    lsp: LspSettings = Field(default_factory=LspSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    state_dir: Path = Field(
        default_factory=lambda: (
            Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local/state")) / "ellora"
        ),
        description="checkpoints, patches and reports",
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = [path for path in config_file_candidates() if path.is_file()]
        toml_sources = tuple(TomlConfigSettingsSource(settings_cls, toml_file=p) for p in files)
        return (init_settings, env_settings, *toml_sources)


def config_file_candidates() -> list[Path]:
    """Project file first (current directory or a parent), then the user file."""
    found: list[Path] = []
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE_NAME).is_file():
            found.append(folder / CONFIG_FILE_NAME)
            break
    config_home = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    found.append(config_home / "ellora" / CONFIG_FILE_NAME)
    return found


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["model.provider=embedded", "agent.threads=[1,2,4]"]`` into nested dicts."""
    import json

    nested: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UserError(f"bad --set {pair!r}: write it as section.field=value")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Load settings from every source; a bad value becomes a one-line :class:`UserError`."""
    try:
        return Settings(**(overrides or {}))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(
            f"bad setting {where}: {first['msg']} (check ellora.toml, ELLORA_* variables and --set)"
        ) from None
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read configuration: {error}") from None
