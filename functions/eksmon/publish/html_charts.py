"""Pictures of what a finding's numbers explain better than its text: the cluster subnets' free IPs per
zone (cluster.subnet_ip_headroom) and when the scheduler's queue stood still (scheduler.backlog).

Drawn from the findings' details only (pure), so a report made from stored findings (`eksmon findings
--format html`) draws them too; a cluster without the finding has nothing to show here.
"""

from __future__ import annotations

from datetime import datetime

from eksmon.models import Finding
from eksmon.publish.html_page import COLOUR, LINE, PLOT, ROW, escape, lines_text, svg, text_width

BAR = PLOT - 140  # the bars leave room for the longest labels (subnet ids) at 1024 px

SUBNET = "cluster.subnet_ip_headroom"
BACKLOG = "scheduler.backlog"
FREE_SCALE = 64  # free IPs at the bar's full length: the question is "5 or not", not "how many thousands"


def subnet_section(findings: list[Finding]) -> str:
    """One row per cluster subnet, grouped by cluster and zone: its free IPs against the 5 EKS needs."""
    rows: list[tuple[str, str, float | None, float]] = []  # label, tip, free (None: gone), minimum
    for f in sorted((f for f in findings if f.check == SUBNET), key=lambda f: (f.cluster or "", f.region)):
        free = f.details.get("free_ips") or {}
        zones = f.details.get("zones") or {}
        need = float(f.details.get("min_free_ips") or 5)
        if not isinstance(free, dict) or not isinstance(zones, dict):
            continue
        for subnet in sorted(free, key=lambda s: (str(zones.get(s, "")), s)):
            label = f"{f.cluster} · {zones.get(subnet, '?')} · {subnet}"
            rows.append((label, f"{free[subnet]} free IPs", float(free[subnet]), need))
        for subnet in f.details.get("gone_subnets") or []:
            rows.append((f"{f.cluster} · {subnet}", "no longer exists", None, need))
    if not rows:
        return '<p class="nodata">No cluster subnet is short of addresses.</p>'
    label_w = max(260.0, max(text_width(r[0]) for r in rows) + 16)
    width = label_w + BAR + text_width("1,000 free") + 24
    parts = []
    for i, (label, tip, free, need) in enumerate(rows):
        y = i * ROW
        parts.append(f'<text x="0" y="{y + 19}">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 6}" width="{BAR}" height="18" fill="#eeeeee"/>')
        if free is None:
            parts.append(
                lines_text(label_w + 8, y + 19, ["gone: the cluster cannot use it"], ' fill="#c62828"')
            )
            continue
        colour = COLOUR["ok"] if free >= need else COLOUR["critical"]
        share = min(free / FREE_SCALE, 1.0)
        parts.append(
            f'<rect x="{label_w}" y="{y + 6}" width="{max(share * BAR, 2):.1f}" height="18" fill="{colour}">'
            f"<title>{escape(tip)}</title></rect>"
            f'<text x="{label_w + BAR + 8}" y="{y + 19}">{free:,.0f} free</text>'
        )
    lx = label_w + min(rows[0][3] / FREE_SCALE, 1.0) * BAR
    parts.append(
        f'<line x1="{lx:.1f}" y1="0" x2="{lx:.1f}" y2="{len(rows) * ROW}" stroke="#616161" '
        f'stroke-dasharray="4 3"/><text x="{lx - 4:.1f}" y="{len(rows) * ROW + 14}" fill="#595959">'
        f"{rows[0][3]:.0f} (what an upgrade needs)</text>"
    )
    return svg(len(rows), "".join(parts), "free IP addresses in each cluster subnet, by zone", width=width)


def backlog_section(findings: list[Finding]) -> str:
    """Each backlogged cluster's window as a line, the stretch its queue stood still drawn on it."""
    found = sorted((f for f in findings if f.check == BACKLOG), key=lambda f: f.cluster or "")
    rows = []
    for f in found:
        try:
            start, end = _at(f.details["from"]), _at(f.details["to"])
            b_start, b_end = _at(f.details["backlog_start"]), _at(f.details["backlog_end"])
        except (KeyError, TypeError, ValueError):
            continue
        rows.append((f, start, end, b_start, b_end))
    if not rows:
        return '<p class="nodata">No scheduler backlog in the window.</p>'
    label_w = max(260.0, max(text_width(f"{f.cluster} ({f.region})") for f, *_ in rows) + 16)
    width = label_w + PLOT + text_width("up to 10,000 pods, 1,440 min") + 24
    parts = []
    for i, (f, start, end, b_start, b_end) in enumerate(rows):
        y = i * ROW
        span = max((end - start).total_seconds(), 1.0)

        def x(moment: datetime, start: datetime = start, span: float = span) -> float:
            return label_w + max(0.0, min((moment - start).total_seconds() / span, 1.0)) * PLOT

        text = f"up to {float(f.details.get('peak_pending_pods') or 0):,.0f} pods, {f.details.get('backlog_minutes')} min"
        parts.append(f'<text x="0" y="{y + 19}">{escape(f"{f.cluster} ({f.region})")}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 13}" width="{PLOT}" height="4" fill="#cccccc"/>')
        parts.append(
            f'<rect x="{x(b_start):.1f}" y="{y + 6}" width="{max(x(b_end) - x(b_start), 2):.1f}" height="18" '
            f'fill="{COLOUR["warning"]}"><title>{escape(f"{b_start:%H:%M}-{b_end:%H:%M} UTC")}</title></rect>'
            f'<text x="{label_w + PLOT + 8}" y="{y + 19}">{escape(text)}</text>'
        )
        parts.append(
            f'<text x="{label_w}" y="{y + ROW + 2}" fill="#595959" font-size="11">{start:%H:%M}</text>'
            f'<text x="{label_w + PLOT - 30}" y="{y + ROW + 2}" fill="#595959" font-size="11">{end:%H:%M}</text>'
        )
    return svg(
        len(rows),
        "".join(parts),
        "when each scheduler's active queue stood still",
        width=width,
        row=ROW + LINE,
    )


def _at(text: object) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
