"""apiserver.aggregated_api_unavailable: an aggregated API (metrics-server, custom or external
metrics) that does not answer.

Discovery then fails for its group: namespace deletion stops (the namespace controller must list
every resource type to empty a namespace), garbage collection and the HPA stall, and every
``kubectl`` call warns. One finding per unavailable APIService backed by a Service; critical once a
namespace is already stuck Terminating on it (its ``NamespaceDeletionDiscoveryFailure`` condition
names the group and version). An APIService available again, and Local ones (served by the
apiserver itself), are never findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.checks._kubernetes import listed
from eksmon.models import Problem, Severity
from eksmon.parts.kubernetes import AggregatedApis, ApiService, StuckNamespace
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot

DOCS = "https://kubernetes.io/docs/tasks/extend-kubernetes/configure-aggregation-layer/"


def waiting_on(api: ApiService, namespaces: tuple[StuckNamespace, ...]) -> list[StuckNamespace]:
    """The stuck namespaces whose discovery failure names this API's group and version."""
    return [ns for ns in namespaces if api.group_version in ns.message]


@check(
    id="apiserver.aggregated_api_unavailable",
    title="Aggregated API unavailable",
    monitor="kubernetes",
    needs=(AggregatedApis,),
    docs=DOCS,
    severity_rules="warning for an APIService backed by a Service whose Available condition is False; "
    "critical when a namespace is stuck Terminating on it (NamespaceDeletionDiscoveryFailure)",
    sources=("Kubernetes: apiservices (apiregistration.k8s.io/v1)", "Kubernetes: namespaces (Terminating)"),
)
def aggregated_api_unavailable(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    part = snap.get(AggregatedApis)
    for api in part.items:
        if api.available is not False:
            continue
        stuck = waiting_on(api, part.stuck_namespaces)
        since = f" since {api.since}" if api.since else ""
        why = (
            f" ({api.reason}: {api.message})"
            if api.reason and api.message
            else f" ({api.reason})"
            if api.reason
            else ""
        )
        consequence = (
            f"Namespace {listed(ns.name for ns in stuck)} is already stuck Terminating on it, and every "
            "namespace deleted from now on will be too."
            if stuck
            else "Namespaces deleted now stay Terminating, the garbage collector and the HPA stall on the "
            "missing group, and every kubectl call warns that discovery failed."
        )
        yield Problem(
            Severity.CRITICAL if stuck else Severity.WARNING,
            f"APIService/{api.name}",
            f"APIService {api.name} ({api.group_version}, served by Service {api.service}) is not "
            f"available{since}{why}. {consequence}",
            f"Bring back Service {api.service} (kubectl get pods,endpoints -n {api.service.split('/')[0]}; "
            f"kubectl describe apiservice {api.name}), or, if the API is no longer used, delete it: "
            f"kubectl delete apiservice {api.name}. Stuck namespaces finish deleting once discovery works.",
            {
                "apiservice": api.name,
                "group_version": api.group_version,
                "service": api.service,
                "reason": api.reason,
                "since": api.since,
                "stuck_namespaces": [ns.name for ns in stuck],
            },
            title=f"Aggregated API {api.name} unavailable"
            + (f": {len(stuck)} namespace(s) stuck deleting" if stuck else ""),
        )
