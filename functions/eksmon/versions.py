"""Kubernetes minor versions on EKS: parsing, arithmetic, and the bundled calendar fallback.

Dates come from eks:DescribeClusterVersions. The table below is used only when that API is
unavailable (and the scan says so in a monitor.collection_error); it is never used to decide
"the oldest supported version", which is always read from the dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def parse_minor(version: str | None) -> tuple[int, int] | None:
    """'1.31' or 'v1.31.2-eks-abc' -> (1, 31); None when unparseable."""
    if not version:
        return None
    text = version.strip().lstrip("v")
    parts = text.split(".")
    if len(parts) < 2:
        return None
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or "x")
    except ValueError:
        return None


def minor_str(minor: tuple[int, int]) -> str:
    return f"{minor[0]}.{minor[1]}"


def next_minor(version: str) -> str | None:
    parsed = parse_minor(version)
    return minor_str((parsed[0], parsed[1] + 1)) if parsed else None


@dataclass(frozen=True, slots=True)
class VersionDates:
    version: str
    release: date | None
    end_of_standard: date | None
    end_of_extended: date | None
    status: str | None = None  # STANDARD_SUPPORT | EXTENDED_SUPPORT | UNSUPPORTED, as the API says


def _d(text: str) -> date:
    return date.fromisoformat(text)


# The EKS release calendar (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html).
# Standard support is 14 months, extended 12 more.
BUNDLED_CALENDAR: dict[str, VersionDates] = {
    v.version: v
    for v in (
        VersionDates("1.23", _d("2022-08-11"), _d("2023-10-11"), _d("2024-10-11")),
        VersionDates("1.24", _d("2022-11-15"), _d("2024-01-31"), _d("2025-01-31")),
        VersionDates("1.25", _d("2023-02-21"), _d("2024-05-01"), _d("2025-05-01")),
        VersionDates("1.26", _d("2023-04-11"), _d("2024-06-11"), _d("2025-06-11")),
        VersionDates("1.27", _d("2023-05-24"), _d("2024-07-24"), _d("2025-07-24")),
        VersionDates("1.28", _d("2023-09-26"), _d("2024-11-26"), _d("2025-11-26")),
        VersionDates("1.29", _d("2024-01-23"), _d("2025-03-23"), _d("2026-03-23")),
        VersionDates("1.30", _d("2024-05-23"), _d("2025-07-23"), _d("2026-07-23")),
        VersionDates("1.31", _d("2024-09-26"), _d("2025-11-26"), _d("2026-11-26")),
        VersionDates("1.32", _d("2025-01-23"), _d("2026-03-23"), _d("2027-03-23")),
        VersionDates("1.33", _d("2025-05-29"), _d("2026-07-29"), _d("2027-07-29")),
        VersionDates("1.34", _d("2025-10-02"), _d("2026-12-02"), _d("2027-12-02")),
        VersionDates("1.35", _d("2026-01-27"), _d("2027-03-27"), _d("2028-03-27")),
        VersionDates("1.36", _d("2026-06-02"), _d("2027-08-02"), _d("2028-08-02")),
    )
}


def allowed_kubelet_skew(control_plane: tuple[int, int]) -> int:
    """Kubernetes version-skew policy: kubelet may trail kube-apiserver by 3 minors from 1.28, else 2."""
    return 3 if control_plane >= (1, 28) else 2
