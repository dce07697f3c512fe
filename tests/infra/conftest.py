"""The infrastructure tier: the CDK app synthesised once per test session (jsii synth is slow).

Under pytest-xdist the first worker synthesises into a directory all workers share, under a file
lock, and the others read the same cloud assembly.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.infra.support import STACK, TEST_SETTINGS, Synthesized, cdk_json_context

# jsii starts `node` from PATH: use the Node 24 that `make install` links into the venv, not an
# older one on the machine (Node 20 is end-of-life for jsii). Must happen before aws_cdk is imported.
_VENV_BIN = Path(sys.executable).parent
if (_VENV_BIN / "node").exists() and not os.environ.get("PATH", "").startswith(str(_VENV_BIN)):
    os.environ["PATH"] = f"{_VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def settings() -> Any:
    from eksmon.settings import parse_settings

    return parse_settings(TEST_SETTINGS, source="tests")


@pytest.fixture(scope="session")
def plans() -> list[Any]:
    """Every monitor with checks in the real registry, whether or not its handler has landed yet
    (the handler rule itself is tested in test_monitors.py without a synth)."""
    from eksmon.registry import load
    from infra.monitors import plan_monitors

    found = plan_monitors(load(), handler_exists=lambda _monitor: True)
    assert found, "the registry has no checks at all: nothing to deploy"
    return found


@pytest.fixture(scope="session")
def stub_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny stand-in for layers/build, so the tests neither need PyPI nor copy 37 MiB."""
    directory = tmp_path_factory.mktemp("layer")
    (directory / "python").mkdir()
    (directory / "python" / "placeholder.py").write_text("# the real layer is built by layers/build.py\n")
    return directory


@pytest.fixture(scope="session")
def synthesized(
    tmp_path_factory: pytest.TempPathFactory, settings: Any, plans: list[Any], stub_layer: Path
) -> Iterator[Synthesized]:
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the directory all xdist workers of this run share
    outdir = shared / "cdk.out"
    done = shared / "synth.json"
    with (shared / "synth.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            error = _synthesize(outdir, settings, plans, stub_layer)
            done.write_text(json.dumps({"error": error}), encoding="utf-8")
        fcntl.flock(lock, fcntl.LOCK_UN)
    yield Synthesized(
        outdir=outdir,
        template=json.loads((outdir / f"{STACK}.template.json").read_text(encoding="utf-8")),
        report=json.loads((outdir / "validation-report.json").read_text(encoding="utf-8")),
        error=json.loads(done.read_text(encoding="utf-8"))["error"],
    )


def _synthesize(outdir: Path, settings: Any, plans: list[Any], layer: Path) -> str | None:
    from aws_cdk import App

    from infra.app import build_app

    context = cdk_json_context()
    context["eksmon"] = TEST_SETTINGS
    app = App(outdir=str(outdir), context=context)
    build_app(app, settings, layer_dir=layer, monitors=plans)
    try:
        app.synth()
    except RuntimeError as exc:  # jsii surfaces the validation failure as RuntimeError
        return str(exc)
    return None


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized.template)
