"""The HTML report leads with what to do: counts (a zero in grey), each cluster's counts, the findings
by cluster with message, fix and docs in the open; severity colours readable (WCAG AA); a footer."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from eksmon import __version__
from eksmon.models import Severity
from eksmon.publish.html import render_html
from eksmon.publish.html_page import COLOUR, ZERO
from tests.unit.alerting_builders import finding, result

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    x, y = _luminance(a), _luminance(b)
    return (max(x, y) + 0.05) / (min(x, y) + 0.05)


@pytest.mark.parametrize("name", [*COLOUR, "zero"])
def test_every_severity_colour_passes_wcag_aa_on_white(name: str) -> None:
    colour = ZERO if name == "zero" else COLOUR[name]
    assert contrast(colour, "#ffffff") >= 4.5, (name, colour, round(contrast(colour, "#ffffff"), 2))


def test_the_contrast_check_can_fail() -> None:
    assert contrast("#ef6c00", "#ffffff") < 4.5  # the orange the report used before: 3.1:1


def page() -> str:
    findings = [
        finding("etcd.db_size", Severity.CRITICAL, "prod", resource="etcd", title="etcd of prod at 96 %"),
        finding("a.b", Severity.WARNING, "dev", title="dev warning"),
        finding("quota.utilization", Severity.WARNING, None, title="quota warning"),
    ]
    return render_html(
        result(findings, NOW, clusters=("prod", "dev", "idle")), NOW, command="eksmon scan --format html"
    )


def test_the_findings_come_before_the_pictures_grouped_by_cluster_with_the_fix_in_the_open() -> None:
    text = page()
    order = [text.index(f'id="{s}"') for s in ("summary", "clusters", "findings", "support-timeline")]
    assert order == sorted(order)
    assert "<details" not in text  # nothing behind a toggle
    findings = text[text.index('id="findings"') : text.index('id="support-timeline"')]
    assert (
        findings.index("cluster prod")
        < findings.index("cluster dev")
        < findings.index("account 123456789012")
    )
    assert "<strong>Do:</strong> fix etcd" in findings and 'rel="noreferrer">docs</a>' in findings


def test_each_cluster_has_its_counts_and_a_zero_is_grey() -> None:
    text = page()
    summary = text[text.index('id="cluster-summary"') : text.index('id="findings"')]
    prod = re.search(r"<tr><td><a[^>]*>prod</a>.*?</tr>", summary)
    assert (
        prod
        and '<td class="n critical">1</td>' in prod.group(0)
        and '<td class="n zero">0</td>' in prod.group(0)
    )
    assert re.search(r"<tr><td>idle .*?</tr>", summary)  # a cluster with no finding is listed too
    chips = text[text.index('class="chips"') : text.index("</p>", text.index('class="chips"'))]
    assert f'background:{ZERO}">0 info' in chips and f'background:{COLOUR["critical"]}">1 critical' in chips


def test_the_footer_names_version_time_and_command() -> None:
    footer = page().split("<footer", 1)[1]
    assert (
        __version__ in footer and "2026-11-26T12:00:00Z" in footer and "eksmon scan --format html" in footer
    )


def test_etcd_growth_that_is_a_finding_shows_days_to_full_and_colours_the_bar() -> None:
    growth = finding("etcd.db_growth", Severity.WARNING, "prod", resource="etcd").model_copy(
        update={
            "details": {"bytes": 0.73 * 8 * 1024**3, "days_to_quota": 1.8, "bytes_per_day": 1.2 * 1024**3}
        }
    )
    text = render_html(result([growth], NOW), NOW)
    etcd = text[text.index('id="etcd-size-against-its-limit"') : text.index('id="control-plane-capacity"')]
    assert "↑ full in 1.8 days (+1.20 GiB/day)" in etcd
    assert f'fill="{COLOUR["warning"]}"><title>5.84 GiB' in etcd  # not green at 73 %
    quiet = render_html(result([], NOW), NOW)
    assert "full in" not in quiet
