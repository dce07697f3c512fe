"""version.upgrade_insight: EKS upgrade insights that fail, with the deprecated APIs and who calls them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from eksmon.models import Problem, Severity
from eksmon.parts.cluster import Insight, Insights
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot

_SEVERITY = {"ERROR": Severity.CRITICAL, "WARNING": Severity.WARNING}


@check(
    id="version.upgrade_insight",
    title="EKS upgrade insight failing",
    monitor="lifecycle",
    needs=(Insights,),
    docs="https://docs.aws.amazon.com/eks/latest/userguide/cluster-insights.html",
    severity_rules="critical for an UPGRADE_READINESS insight in ERROR, warning for WARNING",
    sources=("eks:ListInsights", "eks:DescribeInsight"),
)
def upgrade_insight(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    for insight in snap.get(Insights).items:
        severity = _SEVERITY.get(insight.status)
        if insight.category != "UPGRADE_READINESS" or severity is None:
            continue  # other categories (MISCONFIGURATION, future ones) are not upgrade blockers
        apis = [_deprecation(d) for d in insight.deprecations]
        callers = sorted({c["user_agent"] for d in apis for c in d["clients"]})
        what = f" Deprecated APIs still called: {', '.join(d['usage'] for d in apis)}" if apis else ""
        who = (
            f" by {', '.join(callers[:5])}{' and others' if len(callers) > 5 else ''}."
            if callers
            else ("." if apis else "")
        )
        version = insight.kubernetes_version or "the next version"
        yield Problem(
            severity,
            f"insight/{insight.id}",
            f'EKS insight "{insight.name}" is {insight.status} on cluster {snap.name}'
            f" for the upgrade to {version}: {_sentence(insight.reason or insight.description or 'see the insight')}{what}{who}",
            insight.recommendation
            or "Open the insight in the EKS console (Upgrade insights) and fix what it "
            "lists before upgrading; update the listed clients to the replacement APIs.",
            {
                "insight": insight.name,
                "insight_id": insight.id,
                "status": insight.status,
                "reason": insight.reason,
                "kubernetes_version": insight.kubernetes_version,
                "deprecated_apis": apis,
            },
            title=f"Upgrade insight {insight.status}: {insight.name}",
        )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _deprecation(d: Any) -> dict[str, Any]:
    return {
        "usage": d.usage,
        "replaced_with": d.replaced_with,
        "stop_serving_version": d.stop_serving_version,
        "clients": [
            {
                "user_agent": c.user_agent,
                "requests_last_30_days": c.requests_last_30_days,
                "last_request_time": c.last_request_time,
            }
            for c in d.clients
        ],
    }


__all__ = ["Insight", "upgrade_insight"]
