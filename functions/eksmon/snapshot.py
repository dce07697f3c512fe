"""Snapshots: what the collectors saw, keyed by the type of each part.

A check reads ``snapshot.get(Nodegroups)``; a new collector adds a new part type in its own
module, so no central model grows with every monitor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


class MissingData(LookupError):
    """A part was not collected: its source failed (and that collection error is already reported),
    or nothing declared it -- which the engine reports as a bug in the check."""

    def __init__(self, kind: type) -> None:
        super().__init__(kind.__name__)
        self.kind = kind


@dataclass
class RegionSnapshot:
    account: str
    region: str
    parts: dict[type, Any] = field(default_factory=dict)
    clusters: list[ClusterSnapshot] = field(default_factory=list)

    def get(self, kind: type[T]) -> T:
        try:
            value: T = self.parts[kind]
        except KeyError:
            raise MissingData(kind) from None
        return value

    def has(self, kind: type) -> bool:
        return kind in self.parts


@dataclass
class ClusterSnapshot:
    account: str
    region: str
    name: str
    region_snapshot: RegionSnapshot
    parts: dict[type, Any] = field(default_factory=dict)

    def get(self, kind: type[T]) -> T:
        """A part of this cluster, else of its region (e.g. the version calendar)."""
        if kind in self.parts:
            value: T = self.parts[kind]
            return value
        return self.region_snapshot.get(kind)

    def has(self, kind: type) -> bool:
        return kind in self.parts or self.region_snapshot.has(kind)
