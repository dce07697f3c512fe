"""How a person reads a list of findings, whatever draws it (the terminal table, the HTML report):
grouped by cluster, the worst first, each with the first step of its fix and a long id shortened in the
middle. Pure text: no rich here, so that the HTML report needs nothing the Lambda layer lacks."""

from __future__ import annotations

import re
from collections.abc import Iterable

from eksmon.models import Finding, Severity

RESOURCE_LIMIT = 36  # characters of a resource id before its middle is shortened
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


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
