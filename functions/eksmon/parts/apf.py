"""The APF counters of the previous deployed run, to count rejections and seat time since then (not
since the replica started). ``collectors/apf_baseline.py`` fills ``ApfBaseline``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eksmon.parts.apiserver import ApiserverMetrics

AT_MOST_90, OBSERVED = "le=0.9", "count"


@dataclass(frozen=True, slots=True)
class ApfBaseline:
    """``values`` keyed by ``counter_key``; None when no earlier run left any (or nothing keeps state)."""

    values: dict[str, float] | None = None
    at: datetime | None = None


def counter_key(started_at: float | None, level: str, schema: str, reason: str) -> str:
    return f"{started_at or 0:.0f}|{level}|{schema}|{reason}"


SEATS = "seat-utilization"  # the flow-schema slot of a seat-utilization key


def seat_keys(started_at: float | None, level: str) -> tuple[str, str]:
    """The keys of one level's time at or below 90 % and of all its observed time."""
    return counter_key(started_at, level, SEATS, AT_MOST_90), counter_key(started_at, level, SEATS, OBSERVED)


def current_values(scrape: ApiserverMetrics) -> dict[str, float]:
    values = {
        counter_key(replica.started_at, r.priority_level, r.flow_schema, r.reason): r.count
        for replica in scrape.replicas
        for r in replica.apf_rejections
    }
    for replica in scrape.replicas:
        for u in replica.seat_utilization:
            below, observed = seat_keys(replica.started_at, u.priority_level)
            values[below], values[observed] = u.at_most_90, u.count
    return values
