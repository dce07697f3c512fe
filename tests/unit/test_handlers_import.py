"""Every monitor's Lambda entry point imports on its own and is the decorated handler."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.parametrize("monitor", MONITORS)
def test_no_handler_imports_the_kubernetes_client_before_it_reaches_a_cluster(monitor: str) -> None:
    # The official client costs about 0.2 s to import: only a Lambda that reaches a cluster pays it,
    # when it first does (eksmon.kube.kubernetes_client), never at cold start. rich (the terminal's
    # table) is not in the Lambda layer at all (layers/build.py CLI_ONLY): nothing a handler or the
    # HTML report imports may need it.
    if importlib.util.find_spec(f"eksmon.handlers.{monitor}") is None:
        pytest.skip(f"no {monitor} monitor yet")
    code = (
        f"import sys, eksmon.handlers.{monitor}, eksmon.kube, eksmon.publish.html; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'kubernetes', 'aiohttp', 'rich'}))"
    )
    assert _fresh_python(code) == "[]"


def test_a_handler_loads_every_check_at_import_not_in_its_first_invocation() -> None:
    # Lambda's init phase has its own time limit; an invocation's scan budget is its time left
    code = (
        "import eksmon.handlers.lifecycle, eksmon.registry as r; n = len(r.REGISTRY.checks); "
        "print(n, len(r.load().checks))"
    )
    at_import, loaded = map(int, _fresh_python(code).split())
    assert at_import == loaded > 30


def _fresh_python(code: str) -> str:
    """What ``code`` prints in a fresh interpreter with only eksmon on its path, as a Lambda starts."""
    functions = Path(importlib.import_module("eksmon").__file__ or "").resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(functions), "POWERTOOLS_TRACE_DISABLED": "true", "AWS_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()
