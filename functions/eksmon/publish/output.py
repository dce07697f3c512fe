"""Scan output for people and pipelines: table, json (eksmon.scan/v1), markdown."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eksmon.engine import ScanResult
from eksmon.models import FINDING_SCHEMA, Finding, iso_utc
from eksmon.publish.html import render_html as html

_ICON = {"critical": "CRIT", "warning": "WARN", "info": "INFO"}


def scan_document(result: ScanResult, generated_at: datetime) -> dict[str, Any]:
    return {
        "schema": FINDING_SCHEMA,
        "generated_at": iso_utc(generated_at),
        "findings": [f.model_dump(mode="json") for f in result.findings],
        "summary": result.summary(),
    }


def render_json(result: ScanResult, generated_at: datetime) -> str:
    return json.dumps(scan_document(result, generated_at), indent=2, sort_keys=False)


def _where(f: Finding) -> str:
    return f.cluster or f"{f.account}/{f.region}"


def render_table(result: ScanResult, generated_at: datetime, width: int = 120) -> str:
    lines: list[str] = []
    if not result.findings:
        lines.append("No findings: every selected check passed.")
    else:
        rows = [
            (
                _ICON[f.severity.value],
                f.check,
                f"{_where(f)} ({f.region})" if f.cluster else _where(f),
                f.resource,
                f.title,
            )
            for f in result.findings
        ]
        heads = ("SEV", "CHECK", "WHERE", "RESOURCE", "TITLE")
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads[:-1])]
        widths = [min(w, cap) for w, cap in zip(widths, (4, 34, 34, 40), strict=True)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
        lines.append(fmt.format(*heads))
        for row in rows:
            cells = [c if len(c) <= w else c[: w - 1] + "…" for c, w in zip(row[:-1], widths, strict=True)]
            lines.append(fmt.format(*cells, row[-1]))
    lines.append("")
    lines.append(_summary_line(result, generated_at))
    return "\n".join(lines)


def _summary_line(result: ScanResult, generated_at: datetime) -> str:
    s = result.summary()
    sev = s["by_severity"]
    return (
        f"{s['findings']} findings ({sev['critical']} critical, {sev['warning']} warning, {sev['info']} info) "
        f"in {s['clusters']} clusters, {s['regions']} account-regions; {s['api_calls']} AWS API calls, "
        f"{s['duration_seconds']:.1f} s; as of {iso_utc(generated_at)}"
    )


def render_markdown(result: ScanResult, generated_at: datetime) -> str:
    out = ["# eksmon scan", "", _summary_line(result, generated_at), ""]
    if result.findings:
        out += ["| severity | check | where | resource | title |", "|---|---|---|---|---|"]
        for f in result.findings:
            out.append(
                f"| {f.severity.value} | `{f.check}` | {_where(f)} ({f.region}) | `{f.resource}` | "
                f"{_md(f.title)} |"
            )
        out.append("")
        for f in result.findings:
            out += [
                f"## {f.severity.value.upper()}: {_md(f.title)}",
                "",
                f"*{_where(f)}, {f.region}, `{f.resource}`* — [docs]({f.docs})",
                "",
                textwrap.fill(f.message, 100),
                "",
                f"**Do:** {f.remediation}",
                "",
            ]
    return "\n".join(out)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_html(result: ScanResult, generated_at: datetime) -> str:
    return html(result, generated_at)


RENDERERS: dict[str, Callable[[ScanResult, datetime], str]] = {
    "table": render_table,
    "json": render_json,
    "markdown": render_markdown,
    "html": render_html,
}


def render(result: ScanResult, fmt: str, generated_at: datetime) -> str:
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(sorted(RENDERERS))}") from None
    return renderer(result, generated_at)
