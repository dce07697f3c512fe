"""`eksmon scan`'s table as a person reads it at 80, 100 and 120 columns: no line wider than the
terminal, grouped by cluster, every finding's title and first step present, long ids shortened in the
middle, colour only when asked."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from rich.cells import cell_len

from eksmon.models import Finding, Severity, fingerprint
from eksmon.publish.findings_view import first_step, shorten_middle
from eksmon.publish.terminal import render_terminal

ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def finding(
    check: str, severity: Severity, cluster: str | None, resource: str, title: str, fix: str
) -> Finding:
    return Finding(
        check=check,
        severity=severity,
        title=title,
        message="m",
        remediation=fix,
        docs="https://docs.aws.amazon.com/eks/",
        account=ACCOUNT,
        region="eu-west-1",
        cluster=cluster,
        resource=resource,
        fingerprint=fingerprint(check, ACCOUNT, "eu-west-1", cluster, resource),
        details={},
        observed_at="2026-11-26T12:00:00Z",
    )


FINDINGS = [
    finding(
        "apiserver.flowcontrol_rejections",
        Severity.CRITICAL,
        "ml-training",
        "priority-level/leader-election",
        "ml-training: APF dropped 53 requests at priority level leader-election",
        "Find the flow schemas above and the clients behind them (`kubectl get --raw "
        "/debug/api_priority_and_fairness/dump_priority_levels`); slow the noisy clients. Then more.",
    ),
    finding(
        "version.upgrade_insight",
        Severity.WARNING,
        "analytics-legacy",
        "insight/90f5dc75-bc3d-5379-93b4-59e1679a2b3c",
        "Upgrade insight ERROR: Deprecated APIs removed in Kubernetes v1.32",
        "Move the clients off the removed APIs listed in the insight, e.g. `kubectl get --raw /metrics`.",
    ),
    finding(
        "quota.utilization",
        Severity.CRITICAL,
        None,
        "quota/ec2/L-0263D0A3",
        "EC2-VPC Elastic IPs: 96.7 % of the quota used",
        "Request an increase in Service Quotas (`aws service-quotas request-service-quota-increase "
        "--service-code ec2 --quota-code L-0263D0A3 --desired-value 10 --region eu-west-1`).",
    ),
    finding(
        "webhook.no_endpoints",
        Severity.INFO,
        "ml-training",
        "ValidatingWebhookConfiguration/kyverno-resource-validating-webhook-cfg",
        "ValidatingWebhookConfiguration kyverno-resource-validating-webhook-cfg rejects every matching request",
        "Get the webhook's pods ready.",
    ),
]
SUMMARY = {
    "findings": 4,
    "by_severity": {"critical": 2, "warning": 1, "info": 1},
    "clusters": 2,
    "regions": 1,
    "api_calls": 12,
    "duration_seconds": 1.0,
}


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("width", [80, 100, 120])
def test_the_table_fits_the_terminal_and_keeps_every_title_and_first_step(width: int) -> None:
    text = render_terminal(FINDINGS, SUMMARY, NOW, width=width)
    lines = text.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    # the finding column, read down: every title and every first step whole (wrapping aside)
    start = next(i for i, line in enumerate(lines) if "FINDING" in line)
    offset = lines[start].index("FINDING")
    body = squashed("".join(line[offset:] for line in lines))
    for f in FINDINGS:
        assert squashed(f.title) in body, (width, f.title)
        assert squashed(first_step(f.remediation)) in body, (width, f.remediation)


def test_findings_are_grouped_by_cluster_under_a_header_with_counts() -> None:
    text = render_terminal(FINDINGS, SUMMARY, NOW, width=100)
    ml = text.index("cluster ml-training · eu-west-1 · 123456789012  1 critical, 1 info")
    legacy = text.index("cluster analytics-legacy · eu-west-1 · 123456789012  1 warning")
    account = text.index("account 123456789012 · eu-west-1  1 critical")
    assert ml < legacy and account < legacy  # the worst groups first
    assert text.rstrip().endswith("as of 2026-11-26T12:00:00Z")


def test_a_long_resource_id_is_shortened_in_the_middle_not_dropped() -> None:
    uuid = "insight/90f5dc75-bc3d-5379-93b4-59e1679a2b3c"
    short = shorten_middle(uuid, 24)
    assert len(short) == 24 and short.startswith("insight/90f") and short.endswith("79a2b3c") and "…" in short
    assert shorten_middle("version/1.34") == "version/1.34"
    text = render_terminal(FINDINGS, SUMMARY, NOW, width=80)
    assert "ValidatingWebhook…" in text and "webhook-cfg" in text


def test_the_first_step_is_the_first_sentence_whole() -> None:
    assert first_step("Upgrade to 1.35. Then the node groups.") == "Upgrade to 1.35."
    assert first_step("Run e.g. `aws eks list-clusters`. Then x.") == "Run e.g. `aws eks list-clusters`."
    assert first_step("One line\nsecond line") == "One line"


def test_colour_only_when_asked() -> None:
    plain = render_terminal(FINDINGS, SUMMARY, NOW, width=100, color=False)
    coloured = render_terminal(FINDINGS, SUMMARY, NOW, width=100, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[1;31mCRIT" in coloured and "\x1b[33mWARN" in coloured


def test_no_findings_says_so() -> None:
    summary = {**SUMMARY, "findings": 0, "by_severity": {"critical": 0, "warning": 0, "info": 0}}
    assert render_terminal([], summary, NOW, width=80).startswith("No findings: every selected check passed.")


def test_markdown_headings_name_the_cluster_so_equal_titles_stay_apart() -> None:
    from eksmon.publish.output import render_markdown
    from tests.unit.alerting_builders import finding as built
    from tests.unit.alerting_builders import result

    same = "Kubernetes 1.34 leaves EKS standard support in 6 days"
    scan = result([built("v.x", cluster="prod", title=same), built("v.x", cluster="dev", title=same)], NOW)
    text = render_markdown(scan, NOW)
    assert "## cluster prod · us-east-1 · 123456789012" in text
    assert f"### WARNING · prod: {same}" in text and f"### WARNING · dev: {same}" in text


class _Terminal:
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("not a real terminal")


def test_colour_on_a_terminal_unless_no_color_or_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse
    import io

    from eksmon.cli import _color, _width

    monkeypatch.delenv("NO_COLOR", raising=False)
    args = argparse.Namespace(no_color=False, output=None)
    assert _color(args, _Terminal()) is True  # type: ignore[arg-type]
    assert _color(args, io.StringIO()) is False  # piped
    assert _color(argparse.Namespace(no_color=True, output=None), _Terminal()) is False  # type: ignore[arg-type]
    assert _color(argparse.Namespace(no_color=False, output="r.txt"), _Terminal()) is False  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert _color(args, _Terminal()) is False  # type: ignore[arg-type]
    monkeypatch.setenv("COLUMNS", "90")
    assert _width(io.StringIO()) == 90
    monkeypatch.delenv("COLUMNS")
    assert _width(io.StringIO()) == 100
