"""Helpers shared by the Kubernetes collectors: tolerant field access, skipped objects, re-listing.

The apiserver validates what it stores, yet a collector still meets objects with missing or null
optional fields (read as the API's defaults) and, through proxies or odd clients, fields of the
wrong type. Such an object is skipped *with its reason*, and the reasons of one collector are
reported together as one ``monitor.collection_error``: never a crash, never a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eksmon.context import CollectContext
from eksmon.kube import KubeClient, KubeGone, KubeNotFound

T = TypeVar("T")

NAME_LABEL = "kubernetes.io/metadata.name"  # set by the apiserver on every namespace (1.21+)
MAX_REASONS = 10


class BadObject(ValueError):
    """One object that cannot be read; the message says which field and why."""


class SkippedObjects(ValueError):
    """Objects a collector skipped; reported as a collection error naming each (up to 10)."""


class Skips:
    """Collects the objects a collector could not read, and reports them once."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.count = 0
        self.reasons: list[str] = []

    def add(self, ref: str, reason: str) -> None:
        self.count += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(f"{ref}: {reason}")

    def report(self, ctx: CollectContext, source: str, total: int | None = None) -> None:
        if not self.count:
            return
        of = f" of {total}" if total is not None else ""
        more = f" (and {self.count - len(self.reasons)} more)" if self.count > len(self.reasons) else ""
        message = (
            f"{self.count}{of} {self.what} could not be read and were not checked: "
            + "; ".join(self.reasons)
            + more
        )
        ctx.report(source, SkippedObjects(message), message)


@dataclass
class Parsed(Generic[T]):
    """What :func:`parse_each` kept of a list: the parsed items, how many objects were read, and how
    many parsed to nothing (an object the check does not need, or one not ready to judge)."""

    kept: list[T] = field(default_factory=list)
    read: int = 0
    empty: int = 0


def parse_each(
    objects: Iterable[Any], kind: str, parse: Callable[[Any], T | None], skips: Skips, into: Parsed[T]
) -> Parsed[T]:
    """Parse every object of a list into ``into``; an object that is not what its kind must be is
    skipped with its reason in ``skips``, never silently, and the rest are still read."""
    for obj in objects:
        into.read += 1
        try:
            found = parse(obj)
        except BadObject as exc:
            skips.add(object_ref(kind, obj), str(exc))
            continue
        if found is None:
            into.empty += 1
        else:
            into.kept.append(found)
    return into


def get_or_none(client: KubeClient, path: str) -> dict[str, Any] | None:
    """The object at ``path``, or None when it does not exist (404)."""
    try:
        return client.get(path)
    except KubeNotFound:
        return None


def relisted(read: Callable[[], T]) -> T:
    """``read()``, started over once if the list's continue token expired (410) halfway through."""
    try:
        return read()
    except KubeGone:
        return read()


# -- tolerant field access ----------------------------------------------------------------------------
def mapping(value: Any, field: str) -> Mapping[str, Any]:
    """A JSON object field; missing or null is empty, another type is a BadObject."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadObject(f"{field} is a {type(value).__name__}, not an object")
    return value


def sequence(value: Any, field: str) -> list[Any]:
    """A JSON array field; missing or null is empty, another type is a BadObject."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadObject(f"{field} is a {type(value).__name__}, not a list")
    return value


def text(value: Any, field: str, default: str | None = None) -> str | None:
    if value is None:
        return default
    if not isinstance(value, str):
        raise BadObject(f"{field} is a {type(value).__name__}, not a string")
    return value


def strings(value: Any, field: str) -> tuple[str, ...]:
    items = sequence(value, field)
    if not all(isinstance(i, str) for i in items):
        raise BadObject(f"{field} holds something other than strings")
    return tuple(items)


def integer(value: Any, field: str, default: int | None = None) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadObject(f"{field} is {value!r}, not an integer")
    return value


def labels_of(value: Any, field: str = "metadata.labels") -> dict[str, str]:
    found = mapping(value, field)
    return {str(k): str(v) for k, v in found.items() if v is not None}


def object_ref(kind: str, obj: Any) -> str:
    """``Kind/namespace/name`` (``Kind/name`` for cluster-scoped objects) for messages and findings."""
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else "<no name>"
    namespace = meta.get("namespace")
    return f"{kind}/{namespace}/{name}" if isinstance(namespace, str) and namespace else f"{kind}/{name}"


def metadata(obj: Any, kind: str) -> tuple[str, str]:
    """(namespace, name) of an object; '' for the namespace of a cluster-scoped one."""
    if not isinstance(obj, Mapping):
        raise BadObject(f"a {kind} in the list is a {type(obj).__name__}, not an object")
    meta = mapping(obj.get("metadata"), "metadata")
    name = text(meta.get("name"), "metadata.name")
    if not name:
        raise BadObject("metadata.name is missing")
    return text(meta.get("namespace"), "metadata.namespace", "") or "", name
