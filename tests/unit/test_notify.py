"""One SNS message per cluster (and per account+region without a cluster), filterable attributes."""

from __future__ import annotations

from eksmon.models import Finding, Severity, fingerprint
from eksmon.publish.notify import SUBJECT_MAX, build_messages


def finding(
    check: str, severity: Severity, cluster: str | None, region: str = "us-east-1", resource: str = "r"
) -> Finding:
    return Finding(
        check=check,
        severity=severity,
        title=f"{check} on {cluster}",
        message="m",
        remediation="do",
        docs="https://example.com",
        account="123456789012",
        region=region,
        cluster=cluster,
        resource=resource,
        fingerprint=fingerprint(check, "123456789012", region, cluster, resource),
        details={},
        observed_at="2026-11-26T12:00:00Z",
    )


def test_one_message_per_cluster_with_the_worst_severity() -> None:
    msgs = build_messages(
        [
            finding("a.b", Severity.WARNING, "prod"),
            finding("c.d", Severity.CRITICAL, "prod", resource="x"),
            finding("e.f", Severity.INFO, "dev"),
            finding("quota.utilization", Severity.WARNING, None),
            finding("quota.utilization", Severity.WARNING, None, region="eu-west-1"),
        ]
    )
    assert [(m.region, m.cluster) for m in msgs] == [
        ("eu-west-1", None),
        ("us-east-1", None),
        ("us-east-1", "dev"),
        ("us-east-1", "prod"),
    ]
    prod = msgs[-1]
    assert prod.severity is Severity.CRITICAL
    assert prod.attributes()["severity"]["StringValue"] == "critical"
    assert prod.attributes()["cluster"]["StringValue"] == "prod"
    assert msgs[0].attributes()["cluster"]["StringValue"] == "-"
    assert prod.text.index("[CRITICAL]") < prod.text.index("[WARNING]")
    assert "1 critical, 1 warning" in prod.subject


def test_subject_fits_the_sns_limit() -> None:
    long = "c" * 200
    (m,) = build_messages([finding("a.b", Severity.WARNING, long)])
    assert len(m.subject) <= SUBJECT_MAX
