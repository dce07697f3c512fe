"""A check reads only the parts it declares: anything else is a bug, never a silent skip.

The engine collects a check's ``needs``, ``uses`` and ``cluster_needs`` and nothing else. A check that
reads another part works by luck where some other check collected it, and never runs where none
did. The first test reads every registered check's code (and the module's helpers it calls); the
second shows what the engine does when such a check runs anyway.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from eksmon.engine import COLLECTION_ERROR, Scanner, declared_parts
from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo, ClusterNames
from eksmon.registry import CheckSpec, Registry, load
from eksmon.settings import Settings
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot

REGISTRY = load()
PARTS = frozenset(REGISTRY.collectors)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def parts_read(spec: CheckSpec) -> set[type]:
    """Every part type a check's function passes to ``.get()`` / ``.has()``, through the helpers of
    its module that it calls (by name, transitively)."""
    module = sys.modules[spec.fn.__module__]
    tree = ast.parse(inspect.getsource(module))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    found: set[type] = set()
    seen: set[str] = set()
    todo = [spec.fn.__name__]
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        for node in ast.walk(functions[name]):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name):
                todo.append(node.func.id)
            elif isinstance(node.func, ast.Attribute) and node.func.attr in {"get", "has"} and node.args:
                arg = node.args[0]
                value = getattr(module, arg.id, None) if isinstance(arg, ast.Name) else None
                if value in PARTS:
                    found.add(value)
    return found


@pytest.mark.parametrize("check_id", sorted(REGISTRY.checks))
def test_every_part_a_check_reads_is_declared(check_id: str) -> None:
    spec = REGISTRY.checks[check_id]
    read = parts_read(spec)
    assert read, f"{check_id}: no part read found; the walk would miss an undeclared one"
    undeclared = sorted(k.__name__ for k in read - declared_parts(spec))
    assert not undeclared, f"{check_id} reads {undeclared} but declares none of them in needs/uses"


def test_the_walk_finds_a_read_through_a_helper() -> None:
    spec = REGISTRY.checks["version.standard_support_ending"]
    assert {k.__name__ for k in parts_read(spec)} >= {"ClusterInfo", "VersionCalendar"}


class _Unlisted:
    """A part no collector provides and no check declares."""


def _info(name: str) -> ClusterInfo:
    return ClusterInfo(name, f"arn:{name}", "1.31", "ACTIVE", None, None, None, None, (), None, None)


def _registry(fn: object) -> Registry:
    registry = Registry()
    registry.collectors = dict(REGISTRY.collectors)
    spec = CheckSpec(
        id="test.reads_undeclared",
        title="reads a part it does not declare",
        monitor="lifecycle",
        scope="cluster",
        needs=(ClusterInfo,),
        docs="https://example.com",
        severity_rules="-",
        fn=fn,  # type: ignore[arg-type]
    )
    registry.add_check(spec)
    return registry


def test_a_check_reading_an_undeclared_part_is_reported_not_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    def reads_unlisted(snap: ClusterSnapshot, _t: object, _now: datetime) -> Iterable[Problem]:
        snap.get(_Unlisted)
        return [Problem(Severity.INFO, "r", "unreachable", "fix")]

    registry = _registry(reads_unlisted)
    scanner = Scanner(Settings(), list(registry.checks.values()), NOW, registry=registry)
    region = RegionSnapshot("123456789012", "eu-west-1", {ClusterNames: ClusterNames(("prod",))})
    cluster = ClusterSnapshot("123456789012", "eu-west-1", "prod", region, {ClusterInfo: _info("prod")})
    scanner._evaluate(cluster, "cluster", "eu-west-1")
    [finding] = scanner._findings
    assert finding.check == COLLECTION_ERROR
    assert finding.resource == "source/check/test.reads_undeclared"
    assert "reads _Unlisted, which it does not declare" in finding.message
    assert finding.cluster == "prod"


def test_a_declared_part_whose_source_failed_stays_a_quiet_skip() -> None:
    def reads_declared(snap: ClusterSnapshot, _t: object, _now: datetime) -> Iterable[Problem]:
        snap.get(ClusterInfo)
        return [Problem(Severity.INFO, "r", "seen", "fix")]

    registry = _registry(reads_declared)
    spec = registry.checks["test.reads_undeclared"]
    registry.checks[spec.id] = CheckSpec(**{**spec.__dict__, "needs": (), "uses": (ClusterInfo,)})
    scanner = Scanner(Settings(), list(registry.checks.values()), NOW, registry=registry)
    region = RegionSnapshot("123456789012", "eu-west-1")
    cluster = ClusterSnapshot("123456789012", "eu-west-1", "prod", region)  # ClusterInfo failed
    scanner._evaluate(cluster, "cluster", "eu-west-1")
    assert scanner._findings == []
