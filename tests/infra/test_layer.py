"""The dependency layer: its pins agree with pyproject.toml, it targets the functions' runtime, and
layers/build.py rebuilds only when the requirements change (pip replaced by a fake: no network)."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.infra.support import REPO

pytestmark = pytest.mark.infra

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s\\]+)\s+--hash=sha256:(?P<sha>[0-9a-f]{64})$")


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("layer_build", REPO / "layers" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pins() -> dict[str, str]:
    text = (REPO / "layers" / "requirements.txt").read_text(encoding="utf-8")
    logical = [line.strip() for line in text.replace("\\\n", " ").splitlines()]
    pins: dict[str, str] = {}
    for line in (entry for entry in logical if entry and not entry.startswith("#")):
        match = _PIN.match(re.sub(r"\s+", " ", line))
        assert match, f"not an exact pin with a sha256 hash: {line!r}"
        pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def _pyproject_dependencies() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(d) for d in project["dependencies"]]


def test_every_pyproject_dependency_is_pinned_in_the_layer_within_its_range() -> None:
    pins = _pins()
    cli_only = _load_build().CLI_ONLY
    for requirement in _pyproject_dependencies():
        name = canonicalize_name(requirement.name)
        if name in cli_only:
            assert name not in pins, f"{name} is for the command line only, yet the Lambda layer pins it"
            continue
        assert name in pins, f"{name} is a dependency in pyproject.toml but not in layers/requirements.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"layers/requirements.txt pins {name}=={pins[name]}, outside pyproject.toml's {requirement}"
        )


def test_the_layer_carries_its_own_boto3_and_the_full_closure() -> None:
    pins = _pins()
    # The runtime's bundled boto3 lags the EKS API; these must come from the layer.
    for name in (
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "urllib3",
        "pydantic-core",
        "typing-extensions",
    ):
        assert name in pins, name


def test_the_layer_is_built_for_the_functions_runtime_and_architecture() -> None:
    from infra.constants import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME

    build = _load_build()
    assert LAMBDA_RUNTIME.name == f"python{build.PYTHON_VERSION}"
    assert LAMBDA_ARCHITECTURE.name == "arm64"
    assert build.PLATFORM.endswith("_aarch64")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[list[str]]]:
    """layers/build.py working in tmp_path, with a pip that records its calls and writes a package."""
    build = _load_build()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.17.0 --hash=sha256:" + "0" * 64 + "\n")
    out = tmp_path / "build"
    for name, value in {
        "REQUIREMENTS": requirements,
        "BUILD": out,
        "TARGET": out / "python",
        "STAMP": out / ".stamp",
        "LOCK": out / ".lock",
    }.items():
        monkeypatch.setattr(build, name, value)
    calls: list[list[str]] = []

    def fake_pip(*args: str) -> None:
        calls.append(list(args))
        target = Path(args[args.index("--target") + 1])
        (target / "six").mkdir(parents=True)
        (target / "six" / "__init__.py").write_text("")
        (target / "bin").mkdir()
        (target / "bin" / "tool").write_text("")
        for folder in ("kubernetes/client", "kubernetes/aio", "aiohttp", "aiohttp-3.14.5.dist-info", "yarl"):
            (target / folder).mkdir(parents=True)
            (target / folder / "__init__.py").write_text("")

    monkeypatch.setattr(build, "_pip", fake_pip)
    return build, calls


def test_build_installs_for_the_lambda_platform_then_skips_until_requirements_change(
    sandbox: tuple[Any, list[list[str]]],
) -> None:
    build, calls = sandbox
    build.build()
    assert len(calls) == 1
    args = calls[0]
    assert args[args.index("--platform") + 1] == "manylinux2014_aarch64"
    assert args[args.index("--python-version") + 1] == build.PYTHON_VERSION
    assert "--only-binary=:all:" in args
    assert "--require-hashes" in args
    assert (build.TARGET / "six" / "__init__.py").is_file()
    assert not (build.TARGET / "bin").exists()  # console scripts pruned
    # the asyncio Kubernetes client and the aiohttp stack only it needs are left out
    assert (build.TARGET / "kubernetes" / "client").is_dir()
    kept = {p.name for p in build.TARGET.iterdir()}
    assert not (build.TARGET / "kubernetes" / "aio").exists() and not kept & {"aiohttp", "yarl"}
    assert "aiohttp-3.14.5.dist-info" not in kept
    assert build.is_current()

    build.build()
    assert len(calls) == 1  # stamp current: nothing installed

    build.REQUIREMENTS.write_text(build.REQUIREMENTS.read_text() + "# changed\n")
    assert not build.is_current()
    build.build()
    assert len(calls) == 2
    assert not [p for p in build.BUILD.iterdir() if p.name.startswith(".tmp-")]  # staging cleaned up


def test_a_failed_build_leaves_no_stamp(
    sandbox: tuple[Any, list[list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    build, _calls = sandbox

    def broken_pip(*_args: str) -> None:
        raise RuntimeError("no network")

    monkeypatch.setattr(build, "_pip", broken_pip)
    with pytest.raises(RuntimeError):
        build.build()
    assert not build.is_current()
