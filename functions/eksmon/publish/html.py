"""``--format html``: one self-contained page a person can look at (no script, no network fetch).

It shows the findings and, as inline SVG, each cluster's support timeline (standard and extended
windows, today, its version), etcd size against each cluster's own limit (8 GiB standard, the tier's
database size on a Provisioned Control Plane tier), the control plane's peak load against its tier,
and quota utilisation. The pictures
read what the scan collected: the support dates from the EKS collector's parts, etcd size and quota
utilisation from the same ``@metric_source`` points that go to CloudWatch (``EtcdDatabaseSizeBytes``,
``QuotaUtilization``), with the findings' details as a fallback. Whatever is missing is drawn as
"no data"; one picture failing never stops the page. A Content-Security-Policy forbids every fetch.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from eksmon import __version__
from eksmon.checks._tiers import cluster_tier
from eksmon.checks.control_plane_capacity import ControlPlaneCapacityThresholds, peaks
from eksmon.checks.etcd_db_size import EtcdDbSizeThresholds
from eksmon.checks.quota_utilization import QuotaUtilizationThresholds
from eksmon.models import Finding, MetricPoint, iso_utc
from eksmon.parts import ClusterInfo
from eksmon.parts.cluster import VersionCalendar
from eksmon.parts.scan import ScanResult
from eksmon.publish.findings_view import counts_by_severity, first_step, group_title, grouped
from eksmon.publish.html_charts import backlog_section, subnet_section
from eksmon.publish.html_page import COLOUR as _COLOUR
from eksmon.publish.html_page import LABEL as _LABEL
from eksmon.publish.html_page import LINE as _LINE
from eksmon.publish.html_page import PLOT as _PLOT
from eksmon.publish.html_page import ROW as _ROW
from eksmon.publish.html_page import ZERO as _ZERO
from eksmon.publish.html_page import bar as _bar
from eksmon.publish.html_page import escape as _e
from eksmon.publish.html_page import level_colour, lines_text, text_width, wrap
from eksmon.publish.html_page import page as _page
from eksmon.publish.html_page import section as _section
from eksmon.publish.html_page import svg as _svg
from eksmon.quotas_catalogue import find as find_quota
from eksmon.registry import Thresholds, load
from eksmon.snapshot import ClusterSnapshot, MissingData, RegionSnapshot
from eksmon.tiers import STANDARD, STANDARD_SEATS_HINT, TierCapacity, db_limit_bytes

log = logging.getLogger(__name__)
T = TypeVar("T")
TH = TypeVar("TH", bound=Thresholds)

ETCD_METRIC = "EtcdDatabaseSizeBytes"
QUOTA_METRIC = "QuotaUtilization"
QUOTA_ROWS_MAX = 25


def render_html(result: ScanResult, generated_at: datetime, command: str | None = None) -> str:
    """What to do first (counts, each cluster's counts, the findings by cluster with their fix), then the
    pictures, then who made the page and when. ``command``: the command line that made it."""
    points = _points(result, generated_at)
    sections = [
        ("Clusters", lambda: _clusters_section(result)),
        ("Findings", lambda: _findings_section(result.findings)),
        ("Support timeline", lambda: _timeline_section(result, generated_at)),
        ("etcd size against its limit", lambda: _etcd_section(result, points)),
        ("Control-plane capacity", lambda: _capacity_section(result, generated_at)),
        ("Quota utilisation", lambda: _quota_section(result, points)),
        ("Cluster subnets: free IPs by zone", lambda: subnet_section(result.findings)),
        ("Scheduler backlog", lambda: backlog_section(result.findings)),
    ]
    body = [_header(result, generated_at)]
    for title, build in sections:
        body.append(_section(title, build))
    body.append(_footer(generated_at, command))
    return _page("\n".join(body), f"eksmon fleet report, {iso_utc(generated_at)}")


def _chip(count: int, severity: str) -> str:
    colour = _COLOUR[severity] if count else _ZERO
    return f'<span style="background:{colour}">{count} {severity}</span>'


def _header(result: ScanResult, generated_at: datetime) -> str:
    s = result.summary()
    chips = "".join(_chip(s["by_severity"][sev], sev) for sev in ("critical", "warning", "info"))
    return (
        f'<header id="summary"><h1>eksmon fleet report</h1>'
        f'<p class="chips">{chips}</p>'
        f'<p class="muted">As of {_e(iso_utc(generated_at))}: {s["clusters"]} clusters in '
        f"{s['regions']} account-regions, {s['checks']} checks, {s['collection_errors']} collection errors.</p>"
        "</header>"
    )


def _footer(generated_at: datetime, command: str | None) -> str:
    made = f" by <code>{_e(command)}</code>" if command else ""
    return (
        f'<footer id="about">eksmon {_e(__version__)}; scan as of {_e(iso_utc(generated_at))}{made}. '
        "One file, no script, nothing fetched.</footer>"
    )


def _count_cell(n: int, severity: str) -> str:
    return f'<td class="n {severity if n else "zero"}">{n}</td>'


def _clusters_section(result: ScanResult) -> str:
    """One row a cluster (and account+region for findings about no cluster), the worst first."""
    groups = dict(grouped(result.findings))
    rows = []
    for key, members in groups.items():
        counts = counts_by_severity(members)
        cluster, account, region = key
        name = f'<a href="#{_anchor(key)}">{_e(cluster or "account " + account)}</a>'
        rows.append(
            f'<tr><td>{name} <span class="muted">{_e(region)}</span></td>'
            + "".join(_count_cell(counts[sev], sev) for sev in ("critical", "warning", "info"))
            + "</tr>"
        )
    seen = {(k[0], k[2]) for k in groups}
    for snap in sorted(result.clusters, key=lambda c: (c.region, c.name)):
        if (snap.name, snap.region) not in seen:
            rows.append(
                f'<tr><td>{_e(snap.name)} <span class="muted">{_e(snap.region)}</span></td>'
                + "".join(_count_cell(0, sev) for sev in ("critical", "warning", "info"))
                + "</tr>"
            )
    if not rows:
        return '<p class="nodata">No clusters scanned.</p>'
    return (
        '<div class="scroll"><table id="cluster-summary"><tr><th>cluster (or account) and region</th>'
        "<th>critical</th><th>warning</th><th>info</th></tr>" + "".join(rows) + "</table></div>"
    )


def _anchor(key: tuple[str, str, str]) -> str:
    cluster, account, region = key
    return "c-" + "-".join(part for part in (cluster or account, region) if part)


# -- data ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Located:
    account: str
    region: str
    point: MetricPoint


def _points(result: ScanResult, now: datetime) -> list[_Located]:
    """Every metric point the scan's snapshots give, whatever monitor declared it (pure functions)."""
    registry = load()
    out: list[_Located] = []
    for source in registry.metric_sources.values():
        snaps: Iterable[ClusterSnapshot | RegionSnapshot] = (
            result.clusters if source.scope == "cluster" else result.regions
        )
        for snap in snaps:
            if not all(snap.has(n) for n in source.needs):
                continue
            try:
                out.extend(_Located(snap.account, snap.region, p) for p in source.fn(snap, now))
            except MissingData:
                continue
            except Exception as exc:  # noqa: BLE001 - a picture shows "no data" rather than no page
                log.warning("html report: metric source %s failed: %s", source.name, type(exc).__name__)
    return out


def _part(snap: ClusterSnapshot | RegionSnapshot, kind: type[T]) -> T | None:
    """A part of the snapshot by its type (the one its collector registered), None when not collected."""
    return snap.get(kind) if snap.has(kind) else None


def _thresholds(result: ScanResult, check_id: str, kind: type[TH]) -> TH:
    """A check's thresholds as the scan used them; its defaults when the check was not in the scan."""
    found = result.thresholds.get(check_id)
    return found if isinstance(found, kind) else kind()


# -- support timeline ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Support:
    cluster: str
    region: str
    version: str | None
    support_type: str | None
    release: date | None
    end_standard: date | None
    end_extended: date | None


def _support_rows(result: ScanResult) -> list[_Support]:
    rows = []
    for snap in sorted(result.clusters, key=lambda c: (c.region, c.name)):
        info = _part(snap, ClusterInfo)
        calendar = _part(snap.region_snapshot, VersionCalendar)
        version = info.version if info is not None else None
        dates = calendar.get(version) if calendar is not None and version else None
        rows.append(
            _Support(
                snap.name,
                snap.region,
                version,
                info.support_type if info is not None else None,
                dates.release if dates is not None else None,
                dates.end_of_standard if dates is not None else None,
                dates.end_of_extended if dates is not None else None,
            )
        )
    return rows


def _label_width(labels: Iterable[str]) -> int:
    return max([_LABEL, *(math.ceil(text_width(label)) + 16 for label in labels)])


def _timeline_section(result: ScanResult, now: datetime) -> str:
    rows = _support_rows(result)
    if not rows:
        return '<p class="nodata">No clusters scanned.</p>'
    today = now.date()
    known = [d for r in rows for d in (r.release, r.end_standard, r.end_extended) if d is not None]
    start = min([today - timedelta(days=365), *known])
    end = max([today + timedelta(days=365), *known])
    span = max((end - start).days, 1)
    # each row's label: the cluster, then (a second line) the days left in its support window
    label_w = _label_width(
        text for r in rows for text in (_timeline_label(r), _support_left(r, today) if r.end_standard else "")
    )
    plot = _PLOT + 160
    width = label_w + plot + 24
    row_h = _ROW + _LINE

    def x(day: date) -> float:
        return label_w + (day - start).days / span * plot

    parts: list[str] = []
    for year in range(start.year + 1, end.year + 1):  # year ticks
        tick = x(date(year, 1, 1))
        parts.append(
            f'<line x1="{tick:.1f}" y1="0" x2="{tick:.1f}" y2="{len(rows) * row_h}" stroke="#e0e0e0"/>'
            f'<text x="{tick + 3:.1f}" y="{len(rows) * row_h + 14}" fill="#595959">{year}</text>'
        )
    for i, r in enumerate(rows):
        parts.append(_timeline_row(r, i * row_h, x, today, label_w))
    now_x = x(today)
    parts.append(
        f'<line x1="{now_x:.1f}" y1="0" x2="{now_x:.1f}" y2="{len(rows) * row_h}" stroke="#c62828" '
        f'stroke-width="2"/><text x="{now_x + 3:.1f}" y="{len(rows) * row_h + 28}" fill="#c62828">today</text>'
    )
    legend = (
        '<p class="muted">Green: standard support. Amber: paid extended support. Grey: no extended support '
        "(upgrade policy STANDARD: forced upgrade at the end of standard support). Red line: today.</p>"
    )
    table = "".join(
        f"<tr><td>{_e(r.cluster)}</td><td>{_e(r.region)}</td><td>{_e(r.version or '?')}</td>"
        f"<td>{_e(r.support_type or '?')}</td><td>{_e(r.end_standard or 'no data')}</td>"
        f"<td>{_e(r.end_extended or 'no data')}</td></tr>"
        for r in rows
    )
    return (
        _svg(
            len(rows), "".join(parts), "support timeline per cluster", extra_height=36, width=width, row=row_h
        )
        + legend
        + '<div class="scroll"><table><tr><th>cluster</th><th>region</th><th>version</th>'
        f"<th>upgrade policy</th><th>end of standard</th><th>end of extended</th></tr>{table}</table></div>"
    )


def _timeline_label(r: _Support) -> str:
    return f"{r.cluster} ({r.region}) {r.version or '?'}"


def _timeline_row(r: _Support, y: int, x: Callable[[date], float], today: date, label_w: float) -> str:
    parts = [f'<text x="0" y="{y + 19}">{_e(_timeline_label(r))}</text>']
    if r.end_standard is None:
        parts.append(f'<text x="{label_w}" y="{y + 19}" fill="#595959">no data: support dates unknown</text>')
        return f'<g class="cluster-timeline">{"".join(parts)}</g>'
    parts.append(
        _bar(
            x(r.release or today), x(r.end_standard), y, "#43a047", f"standard support until {r.end_standard}"
        )
    )
    if r.end_extended is not None and r.support_type == "STANDARD":
        note = "no extended support (upgrade policy STANDARD): forced upgrade"
        parts.append(_bar(x(r.end_standard), x(r.end_extended), y, "#bdbdbd", note, opacity=0.5))
    elif r.end_extended is not None:
        note = f"extended support until {r.end_extended}"
        parts.append(_bar(x(r.end_standard), x(r.end_extended), y, "#ffa000", note))
    left = _support_left(r, today)
    parts.append(f'<text x="0" y="{y + 19 + _LINE}" fill="#424242">{_e(left)}</text>')
    return f'<g class="cluster-timeline"><title>{_e(left)}</title>{"".join(parts)}</g>'


def _support_left(r: _Support, today: date) -> str:
    """What the row's end of line says: the days left in the support window the cluster is in now."""
    assert r.end_standard is not None
    days = (r.end_standard - today).days
    if days > 0:
        return f"{days} days of standard support left"
    if r.support_type == "STANDARD" or r.end_extended is None:
        return f"standard support ended {-days} days ago"
    extended = (r.end_extended - today).days
    if extended > 0:
        return f"extended support: {extended} days left"
    return "extended support ended: forced upgrade due"


# -- etcd ------------------------------------------------------------------------------------------------
def _etcd_sizes(result: ScanResult, points: list[_Located]) -> dict[tuple[str, str, str], float]:
    sizes: dict[tuple[str, str, str], float] = {}
    for f in result.findings:  # fallback: the etcd findings carry the size in their details
        size = f.details.get("bytes")
        if f.cluster and f.check.startswith("etcd.") and isinstance(size, int | float):
            sizes[(f.account, f.region, f.cluster)] = float(size)
    for located in points:
        p = located.point
        cluster = p.dimensions.get("ClusterName")
        if p.name == ETCD_METRIC and cluster:
            sizes[(located.account, located.region, cluster)] = float(p.value)
    return sizes


def _etcd_growth(result: ScanResult) -> dict[tuple[str, str, str], Finding]:
    """Each cluster's etcd growth finding (days to its limit, bytes a day), by account, region, cluster."""
    return {
        (f.account, f.region, f.cluster): f
        for f in result.findings
        if f.cluster and f.check == "etcd.db_growth"
    }


def _etcd_section(result: ScanResult, points: list[_Located]) -> str:
    clusters = sorted(result.clusters, key=lambda c: (c.region, c.name))
    if not clusters:
        return '<p class="nodata">No clusters scanned.</p>'
    sizes = _etcd_sizes(result, points)
    growth = _etcd_growth(result)
    # the growth finding judges what the size alone does not: 73 % today, full in two days
    worst = {key: f.severity.value for key, f in growth.items()}
    levels = _thresholds(result, "etcd.db_size", EtcdDbSizeThresholds)
    warning, critical = levels.warning_percent / 100, levels.critical_percent / 100
    labels = [f"{snap.name} ({snap.region})" for snap in clusters]
    label_w = _label_width(labels)
    plot = _PLOT
    rows: list[tuple[str, list[str], str | None, float | None, str]] = []
    for snap, label in zip(clusters, labels, strict=True):
        key = (snap.account, snap.region, snap.name)
        size = sizes.get(key)
        if size is None:
            rows.append((label, ["no data"], None, None, ""))
            continue
        tier, limit = _etcd_limit(snap)
        share = min(size / limit, 1.0)
        colour = level_colour(share, warning, critical)
        if key in worst and (colour == _COLOUR["ok"] or worst[key] == "critical"):
            colour = _COLOUR[worst[key]]
        text = [f"{_gib(size)} of {limit / 1024**3:.0f} GiB ({share * 100:.0f} %)"]
        trend = growth.get(key)
        if trend is not None:
            text.append(_growth_text(trend.details))
        rows.append((label, text, colour, share, f"{_gib(size)} of {_gib(limit)} ({tier})"))
    lines = max(len(text) for _, text, *_ in rows)
    row_h = _ROW + (lines - 1) * _LINE
    width = label_w + plot + max(text_width(line) for _, text, *_ in rows for line in text) + 24
    parts = []
    for i, (label, text, fill, part, tip) in enumerate(rows):
        y = i * row_h
        parts.append(f'<text x="0" y="{y + 19}">{_e(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 6}" width="{plot}" height="18" fill="#eeeeee"/>')
        if part is None or fill is None:
            parts.append(f'<text x="{label_w + 8}" y="{y + 19}" fill="#595959">no data</text>')
            continue
        parts.append(
            f'<rect x="{label_w}" y="{y + 6}" width="{part * plot:.1f}" height="18" fill="{fill}">'
            f"<title>{_e(tip)}</title></rect>" + lines_text(label_w + plot + 8, y + 19, text)
        )
    for share, mark in ((warning, f"{warning:.0%}"), (critical, f"{critical:.0%}"), (1.0, "limit")):
        lx = label_w + share * plot
        parts.append(
            f'<line x1="{lx:.1f}" y1="0" x2="{lx:.1f}" y2="{len(rows) * row_h}" stroke="#616161" '
            f'stroke-dasharray="4 3"/><text x="{lx - 14:.1f}" y="{len(rows) * row_h + 14}" fill="#595959">'
            f"{mark}</text>"
        )
    legend = (
        "<p class=\"muted\">Each bar against the cluster's own limit (8 GiB standard, the tier's size on a "
        "Provisioned Control Plane tier). Where etcd grows fast enough to be a finding, the days until it is "
        "full and its growth a day are shown beside it.</p>"
    )
    return (
        _svg(
            len(rows),
            "".join(parts),
            "etcd database size per cluster against its own limit",
            width=width,
            row=row_h,
        )
        + legend
    )


def _growth_text(details: dict[str, object]) -> str:
    days, per_day = details.get("days_to_quota"), details.get("bytes_per_day")
    full = f"full in {float(days):.1f} days" if isinstance(days, int | float) else "growing"
    rate = f" (+{_gib(float(per_day))}/day)" if isinstance(per_day, int | float) else ""
    return f"↑ {full}{rate}"


def _etcd_limit(snap: ClusterSnapshot) -> tuple[str, int]:
    """(tier, etcd limit in bytes) of a cluster: 8 GiB standard, the tier's database size otherwise."""
    info = _part(snap, ClusterInfo)
    tier = info.tier if info is not None else STANDARD
    return tier, db_limit_bytes(tier, _api_tiers(snap, info))


def _api_tiers(snap: ClusterSnapshot, info: ClusterInfo | None) -> tuple[TierCapacity, ...]:
    calendar = _part(snap.region_snapshot, VersionCalendar)
    if calendar is None or info is None:
        return ()
    return calendar.tiers(info.version)


# -- control-plane capacity ------------------------------------------------------------------------------
def _capacity_rows(result: ScanResult, now: datetime) -> list[tuple[ClusterSnapshot, str, float | None, str]]:
    """(cluster, tier, seats share of its capacity or None, text) for clusters with a seats peak."""
    rows = []
    oversized = {
        (f.account, f.region, f.cluster): f.details
        for f in result.findings
        if f.check == "control_plane.tier_oversized"
    }
    for snap in sorted(result.clusters, key=lambda c: (c.region, c.name)):
        tier = cluster_tier(snap)
        try:
            seats, pods = peaks(snap, now)
        except MissingData:
            seats, pods = None, None
        cap = tier.capacity
        text = "no data"
        share: float | None = None
        if seats is not None:
            if cap is not None and cap.seats:
                share = seats / cap.seats
                text = f"{seats:,.0f} of {cap.seats:,} seats"
            else:
                share = seats / STANDARD_SEATS_HINT
                text = f"{seats:,.0f} seats (standard: no guarantee; hint at {STANDARD_SEATS_HINT:,})"
            if pods is not None:
                text += f", {pods:,.1f} pods/s" + (
                    f" of {cap.pods_per_second:g}" if cap is not None and cap.pods_per_second else ""
                )
        hint = oversized.get((snap.account, snap.region, snap.name))
        if hint:
            text += (
                f"; {hint.get('suggested_tier')} would fit, saving "
                f"${float(hint.get('savings_per_month_usd') or 0):,.0f}/month"
            )
        rows.append((snap, tier.name, share, text))
    return rows


def _capacity_section(result: ScanResult, now: datetime) -> str:
    """Peak seats in use since the previous run (the scan's window) against each cluster's tier (standard: the 1,200 hint)."""
    rows = _capacity_rows(result, now)
    if not rows:
        return '<p class="nodata">No clusters scanned.</p>'
    levels = _thresholds(result, "control_plane.capacity", ControlPlaneCapacityThresholds)
    warning, critical = levels.warning_percent / 100, levels.critical_percent / 100
    labels = [f"{snap.name} ({snap.region}) · {tier}" for snap, tier, _, _ in rows]
    label_w = _label_width(labels)
    plot = _PLOT - 140
    texts = [wrap(text, 40) for *_, text in rows]  # a long note wraps under itself, whole
    lines = max(len(t) for t in texts)
    row_h = _ROW + (lines - 1) * _LINE
    width = label_w + plot + max(text_width(line) for t in texts for line in t) + 24
    parts = []
    for i, ((_snap, tier, share, text), label, shown) in enumerate(zip(rows, labels, texts, strict=True)):
        y = i * row_h
        parts.append(f'<text x="0" y="{y + 19}">{_e(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 6}" width="{plot}" height="18" fill="#eeeeee"/>')
        if share is None:
            parts.append(f'<text x="{label_w + 8}" y="{y + 19}" fill="#595959">no data</text>')
            continue
        bar_w = min(share, 1.0) * plot
        colour = _COLOUR["info"] if tier == STANDARD else level_colour(share, warning, critical)
        parts.append(
            f'<rect x="{label_w}" y="{y + 6}" width="{bar_w:.1f}" height="18" fill="{colour}">'
            f"<title>{_e(text)}</title></rect>" + lines_text(label_w + plot + 8, y + 19, shown)
        )
    return _svg(
        len(rows),
        "".join(parts),
        "peak seats in use per cluster against its tier's capacity",
        width=width,
        row=row_h,
    )


def _gib(size: float) -> str:
    return f"{size / 1024**3:.2f} GiB"


# -- quotas ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _QuotaRow:
    label: str
    percent: float
    tip: str
    warning: float  # the quota.utilization levels for this quota (its override, else the check's)
    critical: float


def _quota_rows(result: ScanResult, points: list[_Located]) -> list[_QuotaRow]:
    """One row a quota and account+region, highest first."""
    levels = _thresholds(result, "quota.utilization", QuotaUtilizationThresholds)
    names: dict[tuple[str, str], str] = {}
    values: dict[tuple[str, str, str, str], float] = {}
    scopes: dict[tuple[str, str, str, str], str] = {}  # what the value is of: a cluster, a node group
    for f in result.findings:
        d = f.details
        if (
            f.check == "quota.utilization"
            and d.get("quota_code")
            and isinstance(d.get("percent"), int | float)
        ):
            key = (str(d.get("service_code")), str(d["quota_code"]))
            names[key] = str(d.get("quota_name") or "")
            where = (f.account, f.region, *key)
            if float(d["percent"]) >= values.get(where, 0.0):
                values[where] = float(d["percent"])
                scopes[where] = _quota_scope(f)
    for located in points:
        p = located.point
        service, code = p.dimensions.get("Service"), p.dimensions.get("QuotaCode")
        where = (located.account, located.region, str(service), str(code))
        # a finding names the cluster or node group behind the value; the metric, only the region's highest
        if p.name == QUOTA_METRIC and service and code and where not in scopes:
            values[where] = float(p.value)
    rows = []
    for (account, region, service, code), percent in values.items():
        quota = find_quota(service, code)
        name = names.get((service, code)) or (quota.name if quota is not None else "")
        warning, critical = (
            levels.levels(quota)[:2]
            if quota is not None
            else (levels.warning_percent, levels.critical_percent)
        )
        scope = scopes.get((account, region, service, code)) or f"account {account}"
        tip = f"{account} {region} {scope} {service}/{code} {name}: {percent:.1f} %"
        label = f"{scope} ({region}): {service} {name or code}"
        rows.append(_QuotaRow(label, percent, tip, warning, critical))
    rows.sort(key=lambda r: (-r.percent, r.label))
    return rows


def _quota_scope(f: Finding) -> str:
    nodegroup = f.details.get("nodegroup")
    if f.cluster and nodegroup:
        return f"{f.cluster} node group {nodegroup}"
    return f.cluster or f"account {f.account}"


def _quota_section(result: ScanResult, points: list[_Located]) -> str:
    rows = _quota_rows(result, points)
    if not rows:
        return '<p class="nodata">No data: no quota was read in this scan.</p>'
    shown = rows[:QUOTA_ROWS_MAX]
    labels = [wrap(row.label, 48) for row in shown]  # a long quota name wraps under itself, whole
    label_w = _label_width(line for label in labels for line in label)
    lines = max(len(label) for label in labels)
    row_h = _ROW + (lines - 1) * _LINE
    plot = _PLOT
    width = label_w + plot + text_width("100 %") + 24
    parts = []
    for i, (row, label) in enumerate(zip(shown, labels, strict=True)):
        y, percent = i * row_h, row.percent
        share = min(percent / 100, 1.0)
        colour = level_colour(percent, row.warning, row.critical)
        parts.append(
            lines_text(0, y + 19, label)
            + f'<rect x="{label_w}" y="{y + 6}" width="{plot}" height="18" fill="#eeeeee"/>'
            f'<rect x="{label_w}" y="{y + 6}" width="{share * plot:.1f}" height="18" fill="{colour}">'
            f"<title>{_e(row.tip)}</title></rect>"
            f'<text x="{label_w + plot + 8}" y="{y + 19}">{percent:.0f} %</text>'
        )
    levels = _thresholds(result, "quota.utilization", QuotaUtilizationThresholds)
    for share in (
        levels.warning_percent / 100,
        levels.critical_percent / 100,
    ):  # overrides colour their own rows
        lx = label_w + share * plot
        parts.append(
            f'<line x1="{lx:.1f}" y1="0" x2="{lx:.1f}" y2="{len(shown) * row_h}" stroke="#616161" '
            f'stroke-dasharray="4 3"/><text x="{lx - 12:.1f}" y="{len(shown) * row_h + 14}" fill="#595959">'
            f"{share * 100:.0f} %</text>"
        )
    more = (
        f'<p class="muted">{len(rows) - len(shown)} more quotas below these.</p>'
        if len(rows) > len(shown)
        else ""
    )
    return _svg(len(shown), "".join(parts), "quota utilisation, highest first", width=width, row=row_h) + more


# -- findings --------------------------------------------------------------------------------------------
def _findings_section(findings: list[Finding]) -> str:
    if not findings:
        return "<p>No findings: every selected check passed.</p>"
    out = []
    for key, members in grouped(findings):
        counts = ", ".join(f"{n} {sev}" for sev, n in counts_by_severity(members).items() if n)
        out.append(
            f'<h3 id="{_e(_anchor(key))}">{_e(group_title(key))} <span class="muted">({counts})</span></h3>'
        )
        out += [_finding(f) for f in members]
    return "\n".join(out)


def _finding(f: Finding) -> str:
    sev = f.severity.value
    rest = f.remediation[len(first_step(f.remediation)) :].strip()
    more = f" {_e(rest)}" if rest else ""
    return (
        f'<div class="finding f-{sev}"><p class="title"><span class="sev {sev}">{_e(sev.upper())}</span> '
        f"{_e(f.title)}</p>"
        f"<p>{_e(f.message)}</p>"
        f"<p><strong>Do:</strong> {_e(first_step(f.remediation))}{more}</p>"
        f'<p class="muted"><code>{_e(f.check)}</code> · <code>{_e(f.resource)}</code> · '
        f'<a href="{_e(f.docs)}" rel="noreferrer">docs</a></p></div>'
    )
