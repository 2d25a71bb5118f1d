"""Shared fixtures: every user directory points at a temp dir; services built from real parts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Checkpoints, patches, config and caches go to a fresh temp dir for every test."""
    home = tmp_path_factory.mktemp("user")
    for variable, sub in (("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config"),
                          ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(variable, str(home / sub))
    for key in [k for k in os.environ if k.startswith("ELLORA_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield home


@pytest.fixture
def make_services(tmp_path):
    """Build ``Services`` with a real sandbox and toolchain and the given model."""
    from ellora.agents.services import services_from_settings
    from ellora.agents.settings import load_settings

    def build(model=None, **overrides):
        def no_model():
            raise AssertionError("this test did not expect a model call")

        return services_from_settings(
            load_settings(overrides),
            model_factory=(lambda: model) if model is not None else no_model,
        )

    return build


# min_speedup 0: tests check what was verified, never how fast a busy machine ran it
FAST_AGENT = {"agent": {"timing_size": 200_000, "timing_repeats": 2, "min_timing_s": 0.0,
                        "test_sizes": [0, 1, 7, 1001], "min_speedup": 0.0}}
