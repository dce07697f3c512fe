"""The APF rejection counters of the previous deployed run, to count drops since then (not since start)."""

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


def current_values(scrape: ApiserverMetrics) -> dict[str, float]:
    return {
        counter_key(replica.started_at, r.priority_level, r.flow_schema, r.reason): r.count
        for replica in scrape.replicas
        for r in replica.apf_rejections
    }


# no IAM action of its own: the counters live in the findings table the monitor's role already uses
@collector(provides=ApfBaseline, needs=(ApiserverMetrics,))
def apf_baseline(ctx: CollectContext) -> ApfBaseline:
    store = ctx.services.counters if ctx.services is not None else None
    scrape = ctx.get(ApiserverMetrics)
    if store is None or scrape.error is not None or not scrape.samples:
        return ApfBaseline()
    previous = store.swap(f"apf#{ctx.account}#{ctx.region}#{ctx.cluster}", current_values(scrape))
    return ApfBaseline(previous.values, previous.at) if previous is not None else ApfBaseline()


__all__ = ["ApfBaseline", "apf_baseline", "counter_key", "current_values"]
