"""The HTML report colours each bar by the levels of the check that judges it, as configured."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from eksmon.checks.etcd_db_size import EtcdDbSizeThresholds
from eksmon.checks.quota_utilization import QuotaUtilizationThresholds
from eksmon.models import Finding
from eksmon.parts import ClusterInfo
from eksmon.publish.html import render_html
from eksmon.publish.html_page import COLOUR
from eksmon.registry import Thresholds
from tests.unit.alerting_builders import finding, result

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
GIB = 1024**3


def _etcd(share: float) -> Finding:
    f = finding(check="etcd.db_size", cluster="prod", resource="etcd")
    return f.model_copy(update={"details": {"bytes": share * 8 * GIB}})


def _quota(percent: float) -> Finding:
    f = finding(check="quota.utilization", cluster=None, resource="ec2/L-1216C47A")
    details = {
        "service_code": "ec2",
        "quota_code": "L-1216C47A",
        "quota_name": "Running instances",
        "percent": percent,
    }
    return f.model_copy(update={"details": details})


def _bar_colours(page: str, section: str) -> list[str]:
    body = page[page.index(f'<section id="{section}"') :]
    body = body[: body.index("</section>")]
    return re.findall(r'<rect x="\d+" y="\d+" width="[\d.]+" height="18" fill="(#[0-9a-f]{6})">', body)


def _page(*findings: Finding, thresholds: dict[str, Thresholds] | None = None) -> str:
    scan = result(list(findings), NOW)
    scan.thresholds.update(thresholds or {})
    return render_html(scan, NOW)


def test_etcd_bars_follow_the_configured_levels_not_80_and_95() -> None:
    assert _bar_colours(_page(_etcd(0.55)), "etcd-size-against-its-limit") == [COLOUR["ok"]]  # defaults 80/95
    levels = {"etcd.db_size": EtcdDbSizeThresholds(warning_percent=50, critical_percent=60)}
    assert _bar_colours(_page(_etcd(0.55), thresholds=levels), "etcd-size-against-its-limit") == [
        COLOUR["warning"]
    ]
    assert _bar_colours(_page(_etcd(0.65), thresholds=levels), "etcd-size-against-its-limit") == [
        COLOUR["critical"]
    ]
    assert ">50%</text>" in _page(_etcd(0.55), thresholds=levels)  # the level lines move too


def test_quota_bars_follow_the_check_levels_and_a_per_quota_override() -> None:
    assert _bar_colours(_page(_quota(85)), "quota-utilisation") == [COLOUR["warning"]]
    relaxed = {"quota.utilization": QuotaUtilizationThresholds(warning_percent=90, critical_percent=99)}
    assert _bar_colours(_page(_quota(85), thresholds=relaxed), "quota-utilisation") == [COLOUR["ok"]]
    override = {
        "quota.utilization": QuotaUtilizationThresholds(
            quotas={"L-1216C47A": {"warning_percent": 50, "critical_percent": 70}}
        )
    }
    assert _bar_colours(_page(_quota(85), thresholds=override), "quota-utilisation") == [COLOUR["critical"]]


def test_the_timeline_reads_the_typed_cluster_part() -> None:
    scan = result([], NOW)
    (cluster,) = scan.clusters
    cluster.parts[ClusterInfo] = ClusterInfo(
        "prod", "arn", "1.30", "ACTIVE", None, "EXTENDED", None, None, (), None, None
    )
    page = render_html(scan, NOW)
    assert "prod (us-east-1) 1.30" in page and "EXTENDED" in page
