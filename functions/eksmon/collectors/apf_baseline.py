"""The APF counters of the previous deployed run -- rejections, and the seat-utilization histogram's
time at or below 90 % -- to count since then (not since the replica started)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eksmon.collectors.apiserver_scrape import ApiserverMetrics
from eksmon.context import CollectContext
from eksmon.registry import collector


@dataclass(frozen=True, slots=True)
class ApfBaseline:
    """``values`` keyed by ``counter_key``; None when no earlier run left any (or nothing keeps state)."""

    values: dict[str, float] | None = None
    at: datetime | None = None


def counter_key(started_at: float | None, level: str, schema: str, reason: str) -> str:
    return f"{started_at or 0:.0f}|{level}|{schema}|{reason}"


SEATS = "seat-utilization"  # the flow-schema slot of a seat-utilization key
AT_MOST_90, OBSERVED = "le=0.9", "count"


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


# no IAM action of its own: the counters live in the findings table the monitor's role already uses
@collector(provides=ApfBaseline, needs=(ApiserverMetrics,))
def apf_baseline(ctx: CollectContext) -> ApfBaseline:
    store = ctx.services.counters if ctx.services is not None else None
    scrape = ctx.get(ApiserverMetrics)
    if store is None or scrape.error is not None or not scrape.samples:
        return ApfBaseline()
    previous = store.swap(f"apf#{ctx.account}#{ctx.region}#{ctx.cluster}", current_values(scrape))
    return ApfBaseline(previous.values, previous.at) if previous is not None else ApfBaseline()


__all__ = ["ApfBaseline", "apf_baseline", "counter_key", "current_values", "seat_keys"]
