"""The ``lsp`` settings section and the mapping of editor options onto settings overrides.

Editors send options in ``initializationOptions`` and ``workspace/didChangeConfiguration``.
Both take the shape of ``ellora.toml`` (``{"model": {...}, "sandbox": {...}, ...}``),
optionally wrapped in ``{"ellora": {...}}``, plus a few editor-friendly shortcuts:

- ``modelEndpoint``: an OpenAI-compatible URL (sets ``model.provider`` and ``model.base_url``);
- ``indexLocation``: the knowledge-graph index used for hover and retrieval (``index.path``);
- ``sandboxLimits``: ``{"wall_s": 60, "memory_mb": 4096}`` (the ``sandbox`` section);
- ``diagnosticsOnSave``: ``lsp.diagnostics_on_save``;
- ``set``: dotted overrides as on the command line, ``["agent.threads=[1,2,4]"]``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

DEFAULT_HOVER_HEADERS = [
    "/usr/include/trilinos/Kokkos_*.hpp",
    "/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h",
    "/usr/include/x86_64-linux-gnu/mpich/mpi.h",
    "/usr/lib/gcc/x86_64-linux-gnu/*/include/omp.h",
]


class LspSettings(BaseModel):
    """How ``ellora lsp`` behaves inside an editor."""

    diagnostics_on_save: bool = Field(
        False, description="build the saved file in the sandbox and publish compiler diagnostics"
    )
    apply_unverified: bool = Field(
        False, description="also send edits whose correctness was not established by a test"
    )
    cancel_grace_s: float = Field(
        3.0, gt=0, description="seconds a cancelled task gets to stop before it is killed"
    )
    hover_headers: list[str] = Field(
        default_factory=lambda: list(DEFAULT_HOVER_HEADERS),
        description="header globs indexed for hover (the knowledge graph answers first)",
    )


_SHORTCUTS = {"modelEndpoint", "indexLocation", "sandboxLimits", "diagnosticsOnSave", "set"}
_EDITOR_ONLY = {
    "server",
    "trace",
}  # VS Code's own settings under "ellora" (server command, tracing)


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``, merging nested dicts instead of replacing them."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def options_to_overrides(options: Any) -> dict[str, Any]:
    """Turn editor options into ``load_settings`` overrides; raises ``UserError`` when bad."""
    from ellora.agents.cli.errors import UserError
    from ellora.agents.settings import parse_overrides

    if options is None:
        return {}
    if not isinstance(options, dict):
        raise UserError(
            f"editor settings must be an object, not {type(options).__name__}: "
            "check initializationOptions / the 'ellora' settings section"
        )
    if isinstance(options.get("ellora"), dict) and len(options) == 1:
        options = options["ellora"]
    overrides = {
        key: value
        for key, value in options.items()
        if key not in _SHORTCUTS and key not in _EDITOR_ONLY
    }
    if options.get("modelEndpoint"):
        overrides = deep_merge(
            overrides,
            {"model": {"provider": "openai-compatible", "base_url": str(options["modelEndpoint"])}},
        )
    if options.get("indexLocation"):
        overrides = deep_merge(overrides, {"index": {"path": str(options["indexLocation"])}})
    if isinstance(options.get("sandboxLimits"), dict):
        overrides = deep_merge(overrides, {"sandbox": options["sandboxLimits"]})
    if "diagnosticsOnSave" in options:
        overrides = deep_merge(
            overrides, {"lsp": {"diagnostics_on_save": bool(options["diagnosticsOnSave"])}}
        )
    pairs = options.get("set") or []
    if not isinstance(pairs, list):
        raise UserError("editor setting 'set' must be a list of 'section.field=value' strings")
    return deep_merge(overrides, parse_overrides([str(p) for p in pairs]))
