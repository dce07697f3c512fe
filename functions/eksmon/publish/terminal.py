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
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from eksmon.models import Finding, Severity, iso_utc

LABEL = {"critical": "CRIT", "warning": "WARN", "info": "INFO"}
STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
RESOURCE_LIMIT = 36  # characters of a resource id before its middle is shortened


def shorten_middle(text: str, limit: int = RESOURCE_LIMIT) -> str:
    """``text`` at most ``limit`` characters, its middle replaced by an ellipsis: a UUID or a long
    generated name keeps its recognisable start and its distinguishing end."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    tail = limit - 1 - head
    return f"{text[:head]}…{text[-tail:]}"


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def first_step(text: str) -> str:
    """The first line of a remediation, and of that its first sentence: what to do first, whole (a
    sentence ends at a full stop followed by a capital, so ``e.g. `aws …``` or a version stays in)."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return _SENTENCE_END.split(line, maxsplit=1)[0]


def group_key(f: Finding) -> tuple[str, str, str]:
    return (f.cluster or "", f.account, f.region)


def grouped(findings: Iterable[Finding]) -> list[tuple[tuple[str, str, str], list[Finding]]]:
    """Findings by cluster (cluster-less ones by account and region), the worst group first, each group's
    findings worst first; ties in the order given."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault(group_key(f), []).append(f)
    for members in groups.values():
        members.sort(key=lambda f: -f.severity.rank)

    def worst(item: tuple[tuple[str, str, str], list[Finding]]) -> tuple[int, int, int, bool, str, str]:
        key, members = item
        counts = counts_by_severity(members)
        return (-counts["critical"], -counts["warning"], -counts["info"], key[0] == "", key[0], key[2])

    return sorted(groups.items(), key=worst)


def counts_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s.value: 0 for s in sorted(Severity, key=lambda s: -s.rank)}
    for f in findings:
        counts[f.severity.value] += 1
    return counts


def group_title(key: tuple[str, str, str]) -> str:
    cluster, account, region = key
    return f"cluster {cluster} · {region} · {account}" if cluster else f"account {account} · {region}"


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


def render_terminal(
    findings: Sequence[Finding],
    summary: dict[str, Any],
    generated_at: datetime,
    width: int = 100,
    color: bool = False,
) -> str:
    """The grouped table and the summary line, ``width`` columns at most; ANSI colours when ``color``."""
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
        console.print("No findings: every selected check passed.")
    for key, members in grouped(findings):
        header = Text(group_title(key), style="bold")
        header.append("  ")
        header.append_text(_counts_text(counts_by_severity(members)))
        console.print(Group(header, _table(members, width)))
        console.print()
    console.print(summary_line(summary, generated_at))
    # rich pads every cell to its column: trailing blanks a reader never sees, but a diff or a pipe does
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())
