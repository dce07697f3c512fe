"""The update history of a cluster, its managed node groups and its add-ons (ListUpdates + DescribeUpdate).

ListUpdates gives ids only, in no particular order (aws/containers-roadmap#1439), so the time and
outcome of each update cost one DescribeUpdate. The history only grows, so the reads are bounded:
at most ``updates_per_resource`` DescribeUpdate calls per cluster, node group and add-on (set by
cluster.update_failed's ``max_updates_read_per_resource``); a resource with more updates than that
is said to be partly read, never silently judged on a part.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eksmon.aws import pages
from eksmon.collectors.eks import PAGE_SIZE
from eksmon.context import CollectContext
from eksmon.parts.cluster import (
    Addons,
    Nodegroups,
    Update,
    UpdateError,
    Updates,
)
from eksmon.registry import collector

DEFAULT_PER_RESOURCE = 25


@collector(
    provides=Updates,
    iam_actions=("eks:ListUpdates", "eks:DescribeUpdate"),
    uses=(Nodegroups, Addons),
)
def updates(ctx: CollectContext) -> Updates:
    eks = ctx.client("eks")
    assert ctx.cluster is not None
    limit = ctx.needs.updates_per_resource or DEFAULT_PER_RESOURCE
    targets: list[tuple[str, str, dict[str, str]]] = [("cluster", ctx.cluster, {})]
    snap = ctx.cluster_snapshot
    if snap is not None and snap.has(Nodegroups):  # a failed node-group read is reported by its collector
        targets += [("nodegroup", ng.name, {"nodegroupName": ng.name}) for ng in snap.get(Nodegroups).items]
    if snap is not None and snap.has(Addons):
        targets += [("addon", a.name, {"addonName": a.name}) for a in snap.get(Addons).items]
    items: list[Update] = []
    partly: dict[tuple[str, str], tuple[int, int]] = {}
    for kind, target, extra in targets:
        ids = list(pages(eks, "list_updates", "updateIds", name=ctx.cluster, maxResults=PAGE_SIZE, **extra))
        if len(ids) > limit:
            partly[(kind, target)] = (limit, len(ids))
        for update_id in ids[:limit]:
            doc = eks.describe_update(name=ctx.cluster, updateId=update_id, **extra).get("update") or {}
            items.append(_update(kind, target, update_id, doc))
    return Updates(tuple(items), partly)


def _update(kind: str, target: str, update_id: str, doc: dict[str, Any]) -> Update:
    created = doc.get("createdAt")
    return Update(
        kind=kind,
        target=target,
        id=doc.get("id") or update_id,
        type=doc.get("type") or "Unknown",
        status=doc.get("status") or "Unknown",
        created_at=created if isinstance(created, datetime) else None,
        errors=tuple(
            UpdateError(
                e.get("errorCode") or "Unknown",
                e.get("errorMessage") or "",
                tuple(e.get("resourceIds") or ()),
            )
            for e in doc.get("errors") or []
        ),
    )
