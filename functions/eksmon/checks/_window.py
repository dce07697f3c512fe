"""The evaluation window of the CloudWatch checks: all the time since the previous run, and its worst stretch.

The metrics monitor runs on a schedule; a check that read only the last minutes of each period would never
see what happened in between. So every window-based check reads the whole window the collector fetched
(``ControlPlaneCloudWatch.window_start`` to ``now``: the schedule's period in a Lambda, ``eksmon scan
--window`` on the command line) and judges both the whole window and its worst stretch of
``burst_minutes``: a short burst anywhere in the window counts as much as one that is still going on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import Field, model_validator

from eksmon.models import iso_utc
from eksmon.parts.cloudwatch import (
    DEFAULT_BURST_MINUTES,
    ControlPlaneCloudWatch,
    Series,
    Stretch,
    window_period,
    worst_stretch,
)
from eksmon.registry import Thresholds
from eksmon.settings import MAX_WINDOW_MINUTES

V = TypeVar("V")

REPLACED_WINDOW = (
    "window_minutes: no longer set per check: the CloudWatch checks read all the time since the previous "
    "run (the period of schedules.metrics; `eksmon scan --window MINUTES` on the command line); "
    "burst_minutes sets the length of the worst stretch they also judge"
)


class RunWindowThresholds(Thresholds):
    """Thresholds of a check that reads the run's window: ``window_minutes`` is refused with what replaced it."""

    @model_validator(mode="before")
    @classmethod
    def _replaced(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "window_minutes" in data:
            raise ValueError(REPLACED_WINDOW)
        return data


class BurstThresholds(RunWindowThresholds):
    burst_minutes: int = Field(
        DEFAULT_BURST_MINUTES,
        ge=1,
        le=MAX_WINDOW_MINUTES,
        description="also judge the worst stretch this long anywhere in the window (a burst between runs)",
    )


@dataclass(frozen=True, slots=True)
class RunWindow:
    """The window a check evaluates: from the collector's window start to ``now``."""

    start: datetime
    end: datetime
    minutes: int

    def points(self, series: Series | None) -> tuple[tuple[datetime, float], ...]:
        return series.between(self.start, self.end) if series is not None else ()

    @property
    def details(self) -> dict[str, object]:
        return {"window_minutes": self.minutes, "from": iso_utc(self.start), "to": iso_utc(self.end)}


def run_window(cloudwatch: ControlPlaneCloudWatch, now: datetime) -> RunWindow:
    return RunWindow(cloudwatch.window_start, now, cloudwatch.window_minutes)


def worst(
    points: Sequence[tuple[datetime, V]],
    window: RunWindow,
    burst_minutes: int,
    score: Callable[[Sequence[tuple[datetime, V]]], float | None],
    period: int | None = None,
) -> Stretch[V] | None:
    """The worst stretch of ``burst_minutes`` (the whole window when it is shorter)."""
    return worst_stretch(
        points, min(burst_minutes, window.minutes), period or window_period(window.minutes), score
    )


def span(stretch: Stretch[Any], window: RunWindow) -> str:
    """``between 13:10 and 13:25 UTC`` -- the date too when the stretch is not on the window's end day."""
    start, end = stretch.start.astimezone(UTC), stretch.end.astimezone(UTC)
    day = window.end.astimezone(UTC).date()
    if start.date() != day or end.date() != day:
        return f"between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"
    return f"between {start:%H:%M} and {end:%H:%M} UTC"


def stretch_details(stretch: Stretch[Any] | None, burst_minutes: int) -> dict[str, object]:
    return {
        "burst_minutes": burst_minutes,
        "worst_window_start": iso_utc(stretch.start) if stretch else None,
        "worst_window_end": iso_utc(stretch.end) if stretch else None,
    }


__all__ = [
    "REPLACED_WINDOW",
    "BurstThresholds",
    "RunWindow",
    "RunWindowThresholds",
    "run_window",
    "span",
    "stretch_details",
    "worst",
]
