"""What a notification is about: the changes of findings since they were last sent, grouped by where.

Shared by the e-mail text (publish/mail.py), the AWS Chatbot JSON (publish/chatbot.py), the message
builder and publisher (publish/notify.py) and the findings state (state.py).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eksmon.models import Finding, Severity

NO_CLUSTER = "-"

Scope = tuple[str, str, str | None]


class ChangeKind(enum.StrEnum):
    NEW = "new"
    SEVERITY_CHANGED = "severity_changed"
    STILL_OPEN = "still_open"  # open longer than the re-notify interval since it was last sent
    RESOLVED = "resolved"
    OPEN = "open"  # no findings state: every run reports every open finding
    TEST = "test"  # `eksmon notify-test`


KIND_ORDER = {
    ChangeKind.TEST: 0,
    ChangeKind.NEW: 1,
    ChangeKind.SEVERITY_CHANGED: 2,
    ChangeKind.OPEN: 3,
    ChangeKind.STILL_OPEN: 4,
    ChangeKind.RESOLVED: 5,
}
HEADING = {
    ChangeKind.TEST: "TEST",
    ChangeKind.NEW: "NEW",
    ChangeKind.SEVERITY_CHANGED: "SEVERITY CHANGED",
    ChangeKind.OPEN: "OPEN",
    ChangeKind.STILL_OPEN: "STILL OPEN",
    ChangeKind.RESOLVED: "RESOLVED",
}
SHORT = {
    ChangeKind.TEST: "test",
    ChangeKind.NEW: "new",
    ChangeKind.SEVERITY_CHANGED: "changed",
    ChangeKind.OPEN: "open",
    ChangeKind.STILL_OPEN: "still open",
    ChangeKind.RESOLVED: "resolved",
}


@dataclass(frozen=True)
class Change:
    """One thing to tell people about a finding. For RESOLVED, ``finding`` is the last one sent."""

    kind: ChangeKind
    finding: Finding
    previous_severity: Severity | None = None  # SEVERITY_CHANGED
    open_since: str | None = None  # ISO 8601, for STILL_OPEN and RESOLVED

    @property
    def severity(self) -> Severity:
        return self.finding.severity

    @property
    def fingerprint(self) -> str:
        return self.finding.fingerprint

    def sort_key(self) -> tuple[int, int, str, str]:
        return (KIND_ORDER[self.kind], -self.severity.rank, self.finding.check, self.finding.resource)


def changes_without_state(findings: Iterable[Finding]) -> list[Change]:
    """Without a findings table every open finding is reported on every run (the noisy fallback)."""
    return [Change(ChangeKind.OPEN, f) for f in findings]


def headline(group: Sequence[Change]) -> str:
    """'2 new, 1 resolved' or, for one change, the finding's title."""
    if len(group) == 1:
        c = group[0]
        prefix = {ChangeKind.RESOLVED: "resolved: ", ChangeKind.STILL_OPEN: "still open: "}.get(c.kind, "")
        return prefix + c.finding.title
    counts = Counter(c.kind for c in group)
    return ", ".join(f"{counts[k]} {SHORT[k]}" for k in sorted(counts, key=KIND_ORDER.__getitem__))


def where(scope: Scope) -> str:
    account, region, cluster = scope
    if cluster:
        return f"Cluster {cluster} — account {account}, region {region}"
    return f"Account {account}, region {region} (findings not tied to a cluster)"


def summary_lines(changes: Sequence[Change]) -> list[str]:
    counts = Counter((c.kind, c.severity, c.finding.check) for c in changes)
    ordered = sorted(counts.items(), key=lambda kv: (KIND_ORDER[kv[0][0]], -kv[0][1].rank, kv[0][2]))
    return [f"{n} {SHORT[kind]} {sev.value}: {check}" for (kind, sev, check), n in ordered]


def scan_args(scope: Scope) -> str:
    _account, region, cluster = scope
    return f" --region {region}" + (f" --cluster {cluster}" if cluster else "")


def counts(group: Sequence[Change]) -> str:
    parts = []
    for sev in Severity:
        n = sum(1 for c in group if c.severity is sev)
        if n:
            parts.append(f"{n} {sev.value}")
    return ", ".join(parts)
