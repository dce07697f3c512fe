"""Scan output for people and pipelines: table, json (eksmon.scan/v1), markdown."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from eksmon.errors import ConfigError
from eksmon.models import FINDING_SCHEMA, Finding, iso_utc
from eksmon.parts.scan import ScanResult
from eksmon.publish.findings_view import group_title, grouped
from eksmon.publish.html import render_html as html
from eksmon.publish.terminal import render_terminal, summary_line


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


def render_table(result: ScanResult, generated_at: datetime, width: int = 100, color: bool = False) -> str:
    """Grouped by cluster, fitted to ``width`` columns (publish/terminal.py)."""
    return render_terminal(result.findings, result.summary(), generated_at, width=width, color=color)


def _summary_line(result: ScanResult, generated_at: datetime) -> str:
    return summary_line(result.summary(), generated_at)


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
        # grouped by cluster as in the table, each heading naming its cluster: the same title on two
        # clusters stays two distinct headings (and anchors)
        for key, members in grouped(result.findings):
            out += [f"## {group_title(key)}", ""]
            for f in members:
                out += [
                    f"### {f.severity.value.upper()} · {_md(_where(f))}: {_md(f.title)}",
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


def render(
    result: ScanResult,
    fmt: str,
    generated_at: datetime,
    width: int = 100,
    color: bool = False,
    command: str | None = None,
) -> str:
    """``fmt`` of the scan; ``width`` and ``color`` shape the table (the other formats are documents);
    ``command``, the command line that made it, goes in the HTML report's footer."""
    if fmt == "table":
        return render_table(result, generated_at, width=width, color=color)
    if fmt == "html":
        return html(result, generated_at, command=command)
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(sorted(RENDERERS))}") from None
    return renderer(result, generated_at)


def write_report(text: str, path: str | None, out: TextIO, err: TextIO, fmt: str) -> None:
    """The report on standard output, or in ``path`` (its path said on standard error)."""
    if path is None:
        print(text, file=out)
        return
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except OSError as exc:
        raise ConfigError(f"--output: cannot write {path}: {exc.strerror or exc}") from exc
    print(f"eksmon: {fmt} report written to {os.path.abspath(path)}", file=err)
