"""The report's pictures of cluster subnets and scheduler backlogs, from the findings' details."""

from __future__ import annotations

import re
from typing import Any

from eksmon.models import Finding, Severity
from eksmon.publish.html_charts import backlog_section, subnet_section


def finding(check: str, cluster: str, details: dict[str, Any]) -> Finding:
    return Finding(
        check=check,
        severity=Severity.WARNING,
        title="t",
        message="m",
        remediation="r",
        docs="https://example.invalid",
        account="123456789012",
        region="us-east-1",
        cluster=cluster,
        resource="r",
        fingerprint=f"{check}/{cluster}",
        details=details,
        observed_at="2026-11-26T12:00:00Z",
    )


SUBNETS = finding(
    "cluster.subnet_ip_headroom",
    "payments-prod",
    {
        "free_ips": {"subnet-a": 120, "subnet-c": 2},
        "zones": {"subnet-a": "us-east-1a", "subnet-c": "us-east-1c"},
        "gone_subnets": ["subnet-x"],
        "min_free_ips": 5,
    },
)


def test_each_subnet_is_a_row_named_by_cluster_and_zone_short_ones_red_gone_ones_said() -> None:
    html = subnet_section([SUBNETS])
    assert "payments-prod · us-east-1a · subnet-a" in html and "120 free" in html
    assert "payments-prod · us-east-1c · subnet-c" in html and "2 free" in html
    assert "payments-prod · subnet-x" in html and "gone" in html
    assert html.count('fill="#c62828"') >= 2  # the short subnet's bar and the gone subnet's text
    assert "5 (what an upgrade needs)" in html


def test_no_subnet_finding_says_so_instead_of_an_empty_chart() -> None:
    assert "No cluster subnet is short" in subnet_section([])


def test_the_backlog_is_drawn_inside_its_window() -> None:
    f = finding(
        "scheduler.backlog",
        "payments-prod",
        {
            "from": "2026-11-26T11:00:00Z",
            "to": "2026-11-26T12:00:00Z",
            "backlog_start": "2026-11-26T11:20:00Z",
            "backlog_end": "2026-11-26T11:42:00Z",
            "backlog_minutes": 22,
            "peak_pending_pods": 35,
        },
    )
    html = backlog_section([f])
    assert "up to 35 pods, 22 min" in html and "11:20-11:42 UTC" in html
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="4"', html)]
    [stretch] = [float(w) for w in re.findall(r'width="([\d.]+)" height="18" fill="#a84300"', html)]
    assert widths and abs(stretch / widths[0] - 22 / 60) < 0.01  # 22 of the window's 60 minutes


def test_a_backlog_finding_without_its_dates_is_left_out() -> None:
    assert "No scheduler backlog" in backlog_section([finding("scheduler.backlog", "x", {})])
