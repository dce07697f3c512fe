"""Every monitor's Lambda entry point imports on its own and is the decorated handler."""

from __future__ import annotations

import importlib
import importlib.util

import pytest

from eksmon.registry import MONITORS


@pytest.mark.parametrize("monitor", MONITORS)
def test_handler_module_builds_its_handler(monitor: str) -> None:
    if importlib.util.find_spec(f"eksmon.handlers.{monitor}") is None:
        pytest.skip(f"no {monitor} monitor yet")
    # Importing every handler module first is what broke once: eksmon.handlers.metrics (a submodule)
    # replaced the Powertools `metrics` object in the package namespace.
    for other in MONITORS:
        if importlib.util.find_spec(f"eksmon.handlers.{other}") is not None:
            importlib.import_module(f"eksmon.handlers.{other}")
    import eksmon.handlers as package

    fresh = package.monitor_handler(monitor)
    assert callable(fresh) and fresh.__name__ == f"{monitor}_handler"
    assert callable(importlib.import_module(f"eksmon.handlers.{monitor}").handler)
