"""Shared fixtures: the simulator (moto server + extensions on loopback) and fixed clocks."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eksmon.sim import dumps
from eksmon.sim.fleet import DEMO_NOW
from eksmon.sim.server import Simulator

REPO = Path(__file__).resolve().parents[1]
TEST_DUMPS = REPO / "tests" / "fixtures" / "metrics"  # etcd and scheduler dumps, for the parser tests only


def metrics_dump(name: str) -> bytes:
    """A real /metrics dump by file name: kube-apiserver ones ship with the simulator, the rest with the tests."""
    local = TEST_DUMPS / f"{name}.gz"
    return gzip.decompress(local.read_bytes()) if local.exists() else dumps.read_dump(name)


def metrics_dump_names() -> list[str]:
    """Every real dump the repository holds (the simulator's and the tests' own)."""
    return sorted([*dumps.names(), *(p.name.removesuffix(".gz") for p in TEST_DUMPS.glob("*.prom.gz"))])


# Never reach a real AWS account from a test, whatever the developer's shell holds.
for _key in (
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
):
    os.environ.pop(_key, None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_DEV", "false")


@pytest.fixture(scope="session")
def simulator() -> Iterator[Simulator]:
    """One simulator per test process; use `sim` or `demo_sim`, which reset it."""
    with Simulator() as s:
        yield s


@pytest.fixture
def sim(simulator: Simulator) -> Simulator:
    """An empty simulated account."""
    simulator.reset()
    return simulator


@pytest.fixture
def demo_sim(simulator: Simulator) -> Simulator:
    """The seeded demo fleet (fresh for each test, so tests may add faults)."""
    simulator.reset()
    simulator.seed_demo()
    return simulator


@pytest.fixture
def now() -> datetime:
    return DEMO_NOW


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
