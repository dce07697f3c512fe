"""What fills etcd: the resources with the most objects, from the apiserver's ``/metrics``, for the
etcd checks to name beside a size or a growth (a pure helper over the scrape part)."""

from __future__ import annotations

from eksmon.parts.apiserver import ApiserverMetrics, ObjectCount
from eksmon.snapshot import ClusterSnapshot

TOP = 5


def top_resources(counts: dict[str, ObjectCount], n: int = TOP) -> list[dict[str, int | str]]:
    ranked = sorted(counts.values(), key=lambda o: (-o.count, o.name))[:n]
    return [{"resource": o.name, "count": o.count} for o in ranked]


def what_fills_etcd(snap: ClusterSnapshot) -> tuple[str, list[dict[str, int | str]]]:
    """A sentence naming the largest resources by count, and the same as details; ("", []) when the
    scrape was not read or has no counts."""
    scrape = snap.get(ApiserverMetrics) if snap.has(ApiserverMetrics) else None
    if scrape is None or scrape.error is not None:
        return "", []
    top = top_resources(scrape.object_counts())
    if not top:
        return "", []
    listed = ", ".join(f"{t['resource']} {t['count']:,}" for t in top)
    return f" The most objects are {listed}.", top
