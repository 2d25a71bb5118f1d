"""Where untrusted code runs: fresh workspaces, isolation, resource limits.

The seam is :class:`Sandbox`; backends are chosen by name through :func:`create_sandbox`
so that importing this package stays cheap.
"""

from ellora.sandbox.records import Limits, RunResult, Sandbox

__all__ = ["Limits", "RunResult", "Sandbox", "create_sandbox"]

_BACKENDS = {"local": "ellora.sandbox.local:LocalSandbox",
             "parsl": "ellora.sandbox.cluster:ParslSandbox"}


def create_sandbox(name: str = "local", **options) -> Sandbox:
    """Build the sandbox backend registered under ``name``."""
    import importlib

    if name not in _BACKENDS:
        raise ValueError(f"unknown sandbox backend {name!r}: choose one of {sorted(_BACKENDS)}")
    module_name, class_name = _BACKENDS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)(**options)
