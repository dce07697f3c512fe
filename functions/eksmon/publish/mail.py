"""The e-mail (and default) body of a notification: plain text a person can act on."""

from __future__ import annotations

from collections.abc import Sequence

from eksmon.publish.changes import (
    HEADING,
    Change,
    ChangeKind,
    Scope,
    counts,
    headline,
    scan_args,
    summary_lines,
    where,
)
from eksmon.publish.text import fit_sentences

FINDING_TEXT_MAX = 2_000  # one finding's message in an e-mail, before clipping


def email_text(
    scope: Scope,
    group: Sequence[Change],
    others: int,
    shown: int | None = None,
    renotify_days: float | None = None,
) -> str:
    shown = len(group) if shown is None else shown
    lines = [where(scope), headline(group) if len(group) > 1 else counts(group)]
    if others:
        lines.append(
            f"{others} other open finding{'s' if others != 1 else ''} here, unchanged (not repeated)."
        )
    lines.append("")
    heading: ChangeKind | None = None
    for i, c in enumerate(group[:shown], 1):
        if c.kind is not heading:
            heading = c.kind
            lines += [HEADING[c.kind], ""]
        f = c.finding
        lines.append(f"{i}. {_change_line(c)}")
        if c.kind is ChangeKind.RESOLVED:
            since = f" (open since {c.open_since[:10]})" if c.open_since else ""
            lines.append(
                f"   No longer found{since}. Last seen: {fit_sentences(f.message, FINDING_TEXT_MAX)}"
            )
        else:
            if c.kind is ChangeKind.STILL_OPEN and c.open_since:
                lines.append(f"   Open since {c.open_since[:10]}.")
            lines += [f"   {fit_sentences(f.message, FINDING_TEXT_MAX)}", f"   What to do: {f.remediation}"]
        lines += [f"   Resource: {f.resource}   Check: {f.check}", f"   Docs: {f.docs}", ""]
    rest = group[shown:]
    if rest:
        lines += [
            f"... and {len(rest)} more change{'s' if len(rest) != 1 else ''} not shown in full "
            "(SNS message size limit):",
            *(f"   {line}" for line in summary_lines(rest)),
            f"   For the full list run: eksmon scan{scan_args(scope)}",
            "",
        ]
    every = f"{renotify_days:g} days" if renotify_days else "the re-notify interval"
    if any(c.kind is ChangeKind.OPEN for c in group):
        lines.append("— eksmon, without findings state: every run reports every open finding.")
    elif any(c.kind is ChangeKind.TEST for c in group):
        lines.append("— eksmon test notification (eksmon notify-test): nothing is wrong.")
    else:
        lines.append(
            "— eksmon. Each finding is sent when it appears, when its severity changes, when it is resolved, "
            f"and again every {every} while it stays open."
        )
    return "\n".join(lines)


def _change_line(c: Change) -> str:
    f = c.finding
    if c.kind is ChangeKind.SEVERITY_CHANGED and c.previous_severity is not None:
        return f"[{f.severity.value.upper()}, was {c.previous_severity.value}] {f.title}"
    if c.kind is ChangeKind.RESOLVED:
        return f"[RESOLVED, was {f.severity.value}] {f.title}"
    return f"[{f.severity.value.upper()}] {f.title}"
