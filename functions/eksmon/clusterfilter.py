"""Which clusters a ``clusters.include`` pattern (``--cluster``) selects, and what a pattern that selects
nothing is told.

A pattern is a cluster name, a glob of names (``prod-*``), or a cluster ARN
(``arn:aws:eks:us-east-1:123456789012:cluster/payments-prod``; its name part may be a glob too). An ARN
selects only in its own account and region. The catch-all ``*`` (the default) is no filter: it may select
nothing (an account without clusters) without that being a mistake.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

CATCH_ALL = "*"
ARN = re.compile(r"^arn:aws[a-z-]*:eks:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):cluster/(?P<name>.+)$")
SUGGESTIONS = 3  # how many existing names a miss suggests


@dataclass(frozen=True, slots=True)
class Pattern:
    text: str
    name: str  # a glob of cluster names
    region: str | None = None  # an ARN's region and account; None: any
    account: str | None = None

    def matches(self, name: str, account: str, region: str) -> bool:
        return (
            (self.region is None or self.region == region)
            and (self.account is None or self.account == account)
            and fnmatchcase(name, self.name)
        )


def parse(text: str) -> Pattern:
    """A pattern; text starting ``arn:`` that is not an EKS cluster ARN raises ValueError."""
    if not text.startswith("arn:"):
        return Pattern(text, text)
    found = ARN.match(text)
    if found is None:
        raise ValueError(
            f"{text!r} is not an EKS cluster ARN (arn:aws:eks:REGION:ACCOUNT:cluster/NAME); "
            "give a cluster name, a glob or a cluster ARN"
        )
    return Pattern(text, found["name"], found["region"], found["account"])


def included(include: Sequence[str], exclude: Sequence[str], name: str, account: str, region: str) -> bool:
    """Selected by an include pattern and by no exclude pattern (patterns as :func:`parse` reads them)."""
    return any(parse(p).matches(name, account, region) for p in include) and not any(
        parse(p).matches(name, account, region) for p in exclude
    )


@dataclass(frozen=True, slots=True)
class FilterMiss:
    """An include pattern that selected no cluster in what the scan read."""

    pattern: str
    suggestions: tuple[str, ...]  # existing names, closest first
    unread: tuple[str, ...]  # "account/region" (or words) whose clusters could not be listed: it may be there
    outside: str | None = None  # an ARN whose account or region the scan does not cover: what to do
    scope: str = ""  # " (ACCOUNT/REGION)" for an ARN

    def text(self) -> str:
        """One paragraph for a user: what matched nothing, whether that is certain, what exists."""
        if self.outside:
            return f"{self.pattern!r} matches no cluster: {self.outside}."
        where = (
            "in the clusters that could be listed" if self.unread else "in the scanned accounts and regions"
        )
        text = f"{self.pattern!r} matches no cluster {where}{self.scope}"
        if self.unread:
            text += (
                f"; the clusters of {', '.join(self.unread)} could not be listed (see the collection errors), "
                "so it may be there"
            )
        if self.suggestions:
            text += f". Clusters that exist: {', '.join(self.suggestions)}"
        else:
            text += ". No cluster was listed at all"
        return text + "."


def misses(
    include: Sequence[str],
    selected: Iterable[tuple[str, str, str]],
    listed: Iterable[tuple[str, str, str]],
    scanned: Iterable[tuple[str, str]],
    unread: Iterable[tuple[str, str]],
    unlisted: Sequence[str] = (),
) -> list[FilterMiss]:
    """The include patterns (but the catch-all) that selected no cluster.

    ``selected``/``listed``: (account, region, name) of the clusters selected / listed before filtering;
    ``scanned``: every (account, region) the scan covered; ``unread``: those whose clusters could not be
    listed (a failed ListClusters, an account whose role could not be assumed, the deadline).
    ``unlisted``: what else could not be listed, in words (the accounts of an Organization that could not
    be listed): a name or glob may be there too."""
    selected, listed = list(selected), list(listed)
    scanned, unread = set(scanned), set(unread)
    out: list[FilterMiss] = []
    for text in dict.fromkeys(include):
        if text == CATCH_ALL:
            continue
        pattern = parse(text)
        if any(pattern.matches(n, a, r) for a, r, n in selected):
            continue
        here = {(a, r) for a, r in scanned if pattern.account in (None, a) and pattern.region in (None, r)}
        if pattern.region is not None and not here:
            covered = {r for _a, r in scanned}
            accounts = {a for a, _r in scanned}
            outside = (
                f"its region {pattern.region} is not scanned (add --region {pattern.region})"
                if pattern.region not in covered
                else f"its account {pattern.account} is not scanned (accounts.ids, or credentials of that "
                "account)"
                if pattern.account not in accounts
                else "its account and region are not scanned together"
            )
            out.append(FilterMiss(text, (), (), outside))
            continue
        names = sorted({n for a, r, n in listed if (a, r) in here})
        out.append(
            FilterMiss(
                text,
                tuple(closest(pattern.name, names)),
                tuple(sorted(f"{a}/{r}" for a, r in here & unread))
                + (tuple(unlisted) if pattern.account is None else ()),
                scope=f" ({pattern.account}/{pattern.region})" if pattern.region else "",
            )
        )
    return out


def closest(word: str, names: Sequence[str], n: int = SUGGESTIONS) -> list[str]:
    """A few of ``names``, the most alike to ``word`` first (all of them ranked, never none when some exist)."""
    ranked = sorted(names, key=lambda name: (-difflib.SequenceMatcher(None, word, name).ratio(), name))
    return ranked[:n]
