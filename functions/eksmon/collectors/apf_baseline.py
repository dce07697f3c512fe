"""The APF counters of the previous deployed run -- rejections, and the seat-utilization histogram's
time at or below 90 % -- to count since then (not since the replica started)."""

from __future__ import annotations

from eksmon.collectors.apiserver_scrape import ApiserverMetrics
from eksmon.context import CollectContext
from eksmon.parts.apf import (
    SEATS,
    ApfBaseline,
    counter_key,
    current_values,
    seat_keys,
)
from eksmon.registry import collector


# no IAM action of its own: the counters live in the findings table the monitor's role already uses
@collector(provides=ApfBaseline, needs=(ApiserverMetrics,))
def apf_baseline(ctx: CollectContext) -> ApfBaseline:
    store = ctx.services.counters if ctx.services is not None else None
    scrape = ctx.get(ApiserverMetrics)
    if store is None or scrape.error is not None or not scrape.samples:
        return ApfBaseline()
    previous = store.swap(f"apf#{ctx.account}#{ctx.region}#{ctx.cluster}", current_values(scrape))
    return ApfBaseline(previous.values, previous.at) if previous is not None else ApfBaseline()


__all__ = ["SEATS", "ApfBaseline", "apf_baseline", "counter_key", "current_values", "seat_keys"]
