"""cluster.update_failed: a cluster, node-group or add-on update that failed and was not superseded by a
later successful update of the same type: nodes stay on the old version, the skew grows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import Field

from eksmon.models import Problem, Severity, Unevaluated, iso_utc
from eksmon.parts.cluster import Update, Updates
from eksmon.registry import CollectionNeeds, Thresholds, check
from eksmon.snapshot import ClusterSnapshot

_WHAT = {"cluster": "cluster", "nodegroup": "node group", "addon": "add-on"}
_RETRY = {
    "cluster": "aws eks update-cluster-version --name {cluster} --kubernetes-version ...",
    "nodegroup": "aws eks update-nodegroup-version --cluster-name {cluster} --nodegroup-name {target}",
    "addon": "aws eks update-addon --cluster-name {cluster} --addon-name {target} --addon-version ...",
}


class UpdateFailedThresholds(Thresholds):
    window_days: int = Field(default=30, ge=1)  # failures older than this are history, not news
    # DescribeUpdate calls per cluster, node group and add-on at most: EKS lists update ids in no order
    # and never forgets one, so a long history is read in part (and said so) rather than in full each run
    max_updates_read_per_resource: int = Field(default=25, ge=1, le=1000)

    def collection_needs(self) -> CollectionNeeds:
        return CollectionNeeds(updates_per_resource=self.max_updates_read_per_resource)


@check(
    id="cluster.update_failed",
    title="EKS update failed",
    monitor="lifecycle",
    needs=(Updates,),
    docs="https://docs.aws.amazon.com/eks/latest/APIReference/API_Update.html",
    severity_rules="warning for a cluster, node-group or add-on update that failed in the last 30 days "
    "(window_days) with no later successful update of the same type on the same resource",
    thresholds=UpdateFailedThresholds,
    sources=("eks:ListUpdates", "eks:DescribeUpdate"),
)
def update_failed(
    snap: ClusterSnapshot, t: UpdateFailedThresholds, now: datetime
) -> Iterator[Problem | Unevaluated]:
    part = snap.get(Updates)
    since = now - timedelta(days=t.window_days)
    latest_failure: dict[tuple[str, str, str], Update] = {}
    for u in part.items:
        if u.status != "Failed" or u.created_at is None or not since <= u.created_at <= now:
            continue
        key = (u.kind, u.target, u.type)
        known = latest_failure.get(key)
        if known is None or (known.created_at or since) < u.created_at:
            latest_failure[key] = u
    for (kind, target, kind_of_update), failed in sorted(latest_failure.items()):
        assert failed.created_at is not None
        if any(
            u.kind == kind
            and u.target == target
            and u.type == kind_of_update
            and u.status == "Successful"
            and u.created_at is not None
            and u.created_at > failed.created_at
            for u in part.items
        ):
            continue  # superseded: a later update of the same kind went through
        codes = sorted({e.code for e in failed.errors})
        first = failed.errors[0] if failed.errors else None
        why = (
            f" with {', '.join(codes)}: {first.message.strip()}"
            if first and first.message.strip()
            else (f" with {', '.join(codes)}" if codes else "")
        )
        what = _WHAT.get(kind, kind)
        name = f"{what} {target}" if kind != "cluster" else f"cluster {target}"
        days = (now - failed.created_at).days
        yield Problem(
            Severity.WARNING,
            f"update/{kind}/{target}/{kind_of_update}",
            f"A {kind_of_update} of {name} failed {_ago(days)} ({iso_utc(failed.created_at)}){why.rstrip('.')}. "
            f"No later {kind_of_update} of it succeeded: "
            + (
                "its nodes stay where they were and the version skew grows."
                if kind == "nodegroup"
                else "it stays on its previous version or configuration."
            ),
            f"Fix what the error names (e.g. PodEvictionFailure: a PodDisruptionBudget that allows no eviction), "
            f"then retry: `{_RETRY.get(kind, '').format(cluster=snap.name, target=target)}`; "
            f"details: `aws eks describe-update --name {snap.name} --update-id {failed.id}"
            + (
                f" --{'nodegroup' if kind == 'nodegroup' else 'addon'}-name {target}`."
                if kind != "cluster"
                else "`."
            ),
            {
                "resource_kind": kind,
                "resource_name": target,
                "update_id": failed.id,
                "update_type": kind_of_update,
                "created_at": iso_utc(failed.created_at),
                "error_codes": codes,
                "errors": [
                    {"code": e.code, "message": e.message, "resource_ids": list(e.resource_ids)}
                    for e in failed.errors
                ],
            },
            title=f"{kind_of_update} of {name} failed",
        )
    for (kind, target), (read, listed) in sorted(part.partly_read.items()):
        yield Unevaluated(
            f"{_WHAT.get(kind, kind)} {target}: {read} of its {listed} updates read "
            "(max_updates_read_per_resource); EKS lists them in no order, so a recent failure may be unread"
        )


def _ago(days: int) -> str:
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
