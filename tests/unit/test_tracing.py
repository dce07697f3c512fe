"""Tracing is opt-in: without ``tracing: true`` a handler's cold start never loads the X-Ray SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from eksmon.observability import ENV_TRACING, tracing_enabled
from eksmon.settings import parse_settings

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
PROBE = """
import json, sys
import eksmon.handlers.lifecycle as lifecycle
import eksmon.handlers.slack_forwarder as forwarder
def layers(fn):  # decorators between the handler Lambda calls and the function written
    n = 0
    while hasattr(fn, "__wrapped__"):
        fn, n = fn.__wrapped__, n + 1
    return n
print(json.dumps({
    "xray": sorted(m for m in sys.modules if m.startswith("aws_xray_sdk"))[:1],
    "layers": [layers(h.handler) for h in (lifecycle, forwarder)],
}))
"""


def _cold_import(**env: str) -> dict[str, list[Any]]:
    environ = {k: v for k, v in os.environ.items() if k != ENV_TRACING}
    environ |= {"PYTHONPATH": str(FUNCTIONS), "AWS_DEFAULT_REGION": "us-east-1", **env}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, check=True, timeout=120
    )
    found: dict[str, list[Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_tracing_is_off_by_default_in_the_settings() -> None:
    assert parse_settings({}).tracing is False
    assert parse_settings({"tracing": True}).tracing is True
    assert not tracing_enabled({})
    assert tracing_enabled({ENV_TRACING: "true"})


@pytest.mark.parametrize("value", ["", "false", "0"])
def test_a_handler_imports_without_the_xray_sdk_unless_tracing_is_on(value: str) -> None:
    found = _cold_import(**({ENV_TRACING: value} if value else {}))
    assert found["xray"] == []
    assert found["layers"] == [2, 1]  # logger and metrics; logger: no tracer around either


def test_with_tracing_on_the_handlers_are_traced_by_powertools() -> None:
    found = _cold_import(**{ENV_TRACING: "true"})
    assert found["xray"] == ["aws_xray_sdk"]
    assert found["layers"] == [3, 2]  # Powertools' tracer is the innermost decorator of each
