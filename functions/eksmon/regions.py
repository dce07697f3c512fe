"""The AWS regions botocore knows (its endpoint data, every partition), to name a mistyped region as
such, with the nearest real ones, instead of letting it fail later as an unreachable endpoint."""

from __future__ import annotations

import difflib
import functools

import boto3


@functools.cache
def known_regions() -> frozenset[str]:
    session = boto3.Session()
    names: set[str] = set()
    for partition in session.get_available_partitions():
        for service in ("sts", "eks", "ec2"):
            names.update(session.get_available_regions(service, partition_name=partition))
    return frozenset(names)


def nearest_regions(name: str, count: int = 3) -> list[str]:
    """The known regions most like ``name`` (same geography first), best first."""
    known = sorted(known_regions())
    close = difflib.get_close_matches(name, known, n=count, cutoff=0.5)
    if len(close) < count:
        prefix = name.rsplit("-", 1)[0]
        close += [r for r in known if r.startswith(prefix) and r not in close][: count - len(close)]
    return close


def unknown_region_message(regions: list[str]) -> str | None:
    """A sentence naming each region botocore does not know, with suggestions; None when all are known.

    A region newer than the installed botocore is named too: upgrading boto3 teaches it the region.
    """
    unknown = [r for r in regions if r not in known_regions()]
    if not unknown:
        return None
    parts = []
    for region in unknown:
        near = nearest_regions(region)
        hint = f" (nearest: {', '.join(near)})" if near else ""
        parts.append(f"{region!r}{hint}")
    return (
        f"unknown AWS region {'; '.join(parts)}. Pass a region code such as us-east-1; if the region is "
        "new, upgrade boto3 (pip install -U boto3), whose endpoint data lists the regions"
    )
