"""The real ``/metrics`` dumps the simulator serves, shipped gzip-compressed inside the package.

They are package data (``eksmon/sim/data/metrics/*.prom.gz``, see ``SOURCES.md`` there), read with
:mod:`importlib.resources` so that an installed wheel finds them as well as a checkout does.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

# (major, minor) of each kube-apiserver dump shipped, oldest first.
APISERVER_VERSIONS = ((1, 27), (1, 28), (1, 29), (1, 31), (1, 35))
WEBHOOK_REJECTIONS_EXAMPLE = "apiserver_admission_webhook_rejection_count.docs-example.prom"


def apiserver_dump(version: str) -> str:
    """The name of the kube-apiserver dump of the newest version not newer than ``version`` (else the oldest)."""
    parts = version.lstrip("v").split(".")
    minor = (
        (int(parts[0]), int(parts[1])) if len(parts) > 1 and parts[1].isdigit() else APISERVER_VERSIONS[-1]
    )
    chosen = max((v for v in APISERVER_VERSIONS if v <= minor), default=APISERVER_VERSIONS[0])
    return f"kube-apiserver-metrics-{chosen[0]}_{chosen[1]}.prom"


def names() -> list[str]:
    """Every dump shipped (without the ``.gz``)."""
    folder = resources.files(__package__) / "data" / "metrics"
    return sorted(p.name.removesuffix(".gz") for p in folder.iterdir() if p.name.endswith(".prom.gz"))


@cache
def read_dump(name: str) -> bytes:
    """The uncompressed bytes of one shipped dump, e.g. ``kube-apiserver-metrics-1_31.prom`` (read once)."""
    source = resources.files(__package__) / "data" / "metrics" / f"{name}.gz"
    try:
        return gzip.decompress(source.read_bytes())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"/metrics dump {name!r} is not shipped in eksmon/sim/data/metrics (have: {', '.join(names())})"
        ) from None
