"""The scan as a person reads it in a terminal (``--format table``), drawn with rich.

Findings are grouped by cluster (and by account and region for those about no cluster), each group under
a header with its counts; each finding shows its title and the first line of what to do. The table fits
the width it is given by wrapping inside its cells, so no line is wider than the terminal; a long
resource id is shortened in the middle, keeping both ends a person recognises. Colour only when asked
(a terminal, no ``--no-color``, no ``NO_COLOR``). This module is for the command line: rich is not in
the Lambda layer (layers/build.py CLI_ONLY), and no handler imports it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from eksmon.models import Finding, iso_utc
from eksmon.publish.findings_view import (
    RESOURCE_LIMIT,
    counts_by_severity,
    first_step,
    group_title,
    grouped,
    shorten_middle,
)

LABEL = {"critical": "CRIT", "warning": "WARN", "info": "INFO"}
STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def _counts_text(counts: dict[str, int]) -> Text:
    text = Text()
    shown = [(sev, n) for sev, n in counts.items() if n]
    for i, (sev, n) in enumerate(shown):
        if i:
            text.append(", ")
        text.append(f"{n} {sev}", style=STYLE[sev])
    return text


WIDE = 110  # from this width on, the check and resource get a column of their own


def _table(findings: Sequence[Finding], width: int) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        expand=True,
        header_style="bold",
        padding=(0, 1),
    )
    wide = width >= WIDE
    table.add_column("SEV", no_wrap=True, width=4)
    if wide:
        longest = max(len(f.check) for f in findings)
        table.add_column("CHECK / RESOURCE", width=min(max(longest, RESOURCE_LIMIT), 40), overflow="fold")
    table.add_column(
        "FINDING / WHAT TO DO" if wide else "FINDING / CHECK · RESOURCE / WHAT TO DO", overflow="fold"
    )
    for f in findings:
        sev = f.severity.value
        where = Text(f.check)
        where.append("\n")
        where.append(shorten_middle(f.resource), style="dim")
        what = Text(f.title, style="bold")
        if not wide:
            what.append("\n")
            what.append(f"{f.check} · {shorten_middle(f.resource)}", style="dim")
        fix = first_step(f.remediation)
        if fix:
            what.append("\n")
            what.append("→ " + fix, style="italic")
        table.add_row(Text(LABEL[sev], style=STYLE[sev]), *((where,) if wide else ()), what)
    return table


def summary_line(summary: dict[str, Any], generated_at: datetime) -> str:
    sev = summary["by_severity"]
    return (
        f"{summary['findings']} findings ({sev['critical']} critical, {sev['warning']} warning, "
        f"{sev['info']} info) in {summary['clusters']} clusters, {summary['regions']} account-regions; "
        f"{summary['api_calls']} AWS API calls, {summary['duration_seconds']:.1f} s; as of {iso_utc(generated_at)}"
    )


NO_FINDINGS = "No findings: every selected check passed."


def render_terminal(
    findings: Sequence[Finding],
    summary: dict[str, Any] | None,
    generated_at: datetime,
    width: int = 100,
    color: bool = False,
    *,
    closing: str = "",
    empty: str = NO_FINDINGS,
) -> str:
    """The grouped table and the scan's summary line, ``width`` columns at most; ANSI colours when
    ``color``. Findings read rather than scanned (`eksmon findings`) have no ``summary``: ``closing``
    ends the table instead, and ``empty`` says there is none."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )
    if not findings:
        console.print(empty)
    for key, members in grouped(findings):
        header = Text(group_title(key), style="bold")
        header.append("  ")
        header.append_text(_counts_text(counts_by_severity(members)))
        console.print(Group(header, _table(members, width)))
        console.print()
    console.print(closing if summary is None else summary_line(summary, generated_at))
    # rich pads every cell to its column: trailing blanks a reader never sees, but a diff or a pipe does
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())
