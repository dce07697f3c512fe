"""Which monitors to deploy, and what each may read: derived from the check registry, never listed by hand.

A monitor gets a function when the registry has checks for it AND its handler module exists, so a
monitor appears in the stack as soon as its checks and handler land, with no edit here.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eksmon.registry import MONITORS, Monitor, Registry
from infra.constants import HANDLER, HANDLER_MODULE


@dataclass(frozen=True)
class MonitorPlan:
    monitor: Monitor
    handler: str  # "eksmon.handlers.<monitor>.handler"
    iam_actions: tuple[str, ...]  # read-only actions of the collectors its checks need
    check_ids: tuple[str, ...]


def handler_module_exists(monitor: str) -> bool:
    return importlib.util.find_spec(HANDLER_MODULE.format(monitor=monitor)) is not None


def plan_monitors(
    registry: Registry,
    handler_exists: Callable[[str], bool] = handler_module_exists,
    monitors: Sequence[Monitor] = MONITORS,
) -> list[MonitorPlan]:
    plans = []
    for monitor in monitors:
        checks = registry.select(monitor=monitor)
        if not checks or not handler_exists(monitor):
            continue
        plans.append(
            MonitorPlan(
                monitor=monitor,
                handler=HANDLER.format(monitor=monitor),
                iam_actions=tuple(registry.iam_actions(checks)),
                check_ids=tuple(c.id for c in checks),
            )
        )
    return plans
