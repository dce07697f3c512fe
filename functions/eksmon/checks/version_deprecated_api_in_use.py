"""version.deprecated_api_in_use: clients call an API that the next Kubernetes version removes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.apiserver import DEFAULT_SAMPLES, ApiserverMetrics
from eksmon.registry import CollectionNeeds, Thresholds, check
from eksmon.snapshot import ClusterSnapshot
from eksmon.versions import minor_str, parse_minor

DOCS = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"


class DeprecatedApiThresholds(Thresholds):
    look_ahead_minors: int = Field(
        1,
        ge=0,
        le=5,
        description="warn for APIs removed at most this many minor versions ahead (1: the next)",
    )
    scrape_samples: int = Field(
        DEFAULT_SAMPLES,
        ge=1,
        le=10,
        description="times /metrics is read per run: each apiserver replica keeps its own deprecated-API gauge",
    )

    def collection_needs(self) -> CollectionNeeds:
        return CollectionNeeds(scrape_samples=self.scrape_samples)


@check(
    id="version.deprecated_api_in_use",
    title="Deprecated API in use that the next version removes",
    monitor="metrics",
    needs=(ClusterInfo, ApiserverMetrics),
    docs=DOCS,
    severity_rules="warning when a deprecated API whose removed_release is at or below the next minor "
    "version was requested (apiserver_requested_deprecated_apis, sampled on several apiserver replicas)",
    thresholds=DeprecatedApiThresholds,
    sources=("kube-apiserver /metrics",),
)
def deprecated_api_in_use(
    snap: ClusterSnapshot, t: DeprecatedApiThresholds, _now: datetime
) -> Iterator[Problem]:
    info = snap.get(ClusterInfo)
    current = parse_minor(info.version)
    scrape = snap.get(ApiserverMetrics)
    if current is None:
        versions = [parse_minor(s.git_version) for s in scrape.samples]
        current = next((v for v in versions if v is not None), None)
    if current is None:
        return
    horizon = (current[0], current[1] + t.look_ahead_minors)
    replicas = len(scrape.replicas)
    for api, seen_on in scrape.deprecated_apis().items():
        removed = parse_minor(api.removed_release)
        if removed is None or removed > horizon:
            continue  # not scheduled for removal, or not within the look-ahead
        gone = removed <= current
        when = (
            f"was removed in Kubernetes {api.removed_release}"
            if gone
            else f"is removed in Kubernetes {api.removed_release}"
            + (" -- the next version of this cluster" if removed == (current[0], current[1] + 1) else "")
        )
        yield Problem(
            Severity.WARNING,
            api.resource_id,
            f"Clients of cluster {snap.name} (Kubernetes {minor_str(current)}) requested the deprecated API "
            f"{api.name}, which {when}. After the upgrade those requests fail with 404 Not Found: the "
            f"tools and controllers that send them break. Seen on {seen_on} of {replicas} apiserver "
            f"replica{'s' if replicas != 1 else ''} sampled (the gauge resets when an apiserver restarts).",
            "Find the callers: the audit log's `k8s.io/deprecated` annotation and the EKS upgrade insights "
            "name their user agents. Move them (and manifests, Helm charts) to the API's replacement "
            "before upgrading; `kubectl convert` rewrites manifests.",
            {
                "group": api.group,
                "version": api.version,
                "resource": api.resource,
                "subresource": api.subresource,
                "removed_release": api.removed_release,
                "cluster_version": minor_str(current),
                "replicas_reporting": seen_on,
                "replicas_sampled": replicas,
            },
            title=f"Deprecated {api.name} in use on {snap.name}, removed in {api.removed_release}",
        )


__all__ = ["DeprecatedApiThresholds", "deprecated_api_in_use"]
