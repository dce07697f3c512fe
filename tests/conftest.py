"""Shared fixtures: the simulator (moto server + extensions on loopback) and fixed clocks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eksmon.sim.fleet import DEMO_NOW
from eksmon.sim.server import Simulator

REPO = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"

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
