"""The Kubernetes API stand-in's object store: what one simulated cluster holds, as etcd and the
apiserver's list code would serve it.

Objects are kept per kind, keyed and sorted by (namespace, name). Every write bumps the store's
``resourceVersion``; a list is paged with ``limit``/``continue`` (the token carries the list's
resourceVersion and the last key sent), reports ``remainingItemCount`` when no selector is given,
and filters by field and label selectors. :meth:`ObjectStore.compact` expires every continue token
handed out so far (410 Gone), as an etcd compaction does.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from eksmon.sim import k8s_objects as k8s
from eksmon.sim.k8s_objects import KINDS, Kind

CREATED = "2025-09-01T08:00:00Z"


class ObjectStore:
    """One cluster's objects, ``resourceVersion`` and paged lists. Thread-safe."""

    def __init__(self, name: str) -> None:
        self.name = name  # the cluster's: part of every generated uid
        self._lock = threading.RLock()
        self._objects: dict[str, dict[tuple[str, str], k8s.Obj]] = {}
        self._sorted: dict[str, list[tuple[str, str]]] = {}
        self._rv = 1000
        self._compacted = 0

    def add(self, kind: str, obj: k8s.Obj) -> k8s.Obj:
        """Store (or replace) an object of ``kind``; fills uid, resourceVersion, creationTimestamp."""
        with self._lock:
            return self._add(kind, obj)

    def add_many(self, kind: str, objs: Iterable[k8s.Obj]) -> int:
        with self._lock:
            return sum(1 for o in objs if self._add(kind, o))

    def _add(self, kind: str, obj: k8s.Obj) -> k8s.Obj:
        info = _kind(kind)
        metadata = dict(obj.get("metadata") or {})
        if not metadata.get("name"):
            raise ValueError(f"a {kind} needs metadata.name")
        if info.namespaced:
            metadata.setdefault("namespace", "default")
        else:
            metadata.pop("namespace", None)
        key = (str(metadata.get("namespace", "")), str(metadata["name"]))
        self._rv += 1
        metadata.setdefault(
            "uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.name}/{kind}/{key[0]}/{key[1]}"))
        )
        metadata["resourceVersion"] = str(self._rv)
        metadata.setdefault("creationTimestamp", CREATED)
        stored = {"apiVersion": info.api_version, "kind": info.kind, **obj, "metadata": metadata}
        bucket = self._objects.setdefault(kind, {})
        if key not in bucket:
            self._sorted.pop(kind, None)
        bucket[key] = stored
        return stored

    def remove(self, kind: str, name: str, namespace: str | None = None) -> bool:
        key = ((namespace or "default") if _kind(kind).namespaced else "", name)
        with self._lock:
            found = self._objects.get(kind, {}).pop(key, None)
            if found is not None:
                self._rv += 1
                self._sorted.pop(kind, None)
            return found is not None

    def get(self, kind: str, name: str, namespace: str | None = None) -> k8s.Obj | None:
        ns = (namespace or "default") if _kind(kind).namespaced else ""
        with self._lock:
            return self._objects.get(kind, {}).get((ns, name))

    def objects(self, kind: str) -> list[k8s.Obj]:
        with self._lock:
            bucket = self._objects.get(kind, {})
            return [bucket[k] for k in self._keys(kind)]

    def count(self, kind: str) -> int:
        with self._lock:
            return len(self._objects.get(kind, {}))

    def clear(self, kind: str | None = None) -> None:
        with self._lock:
            if kind is None:
                self._objects.clear()
                self._sorted.clear()
            else:
                self._objects.pop(kind, None)
                self._sorted.pop(kind, None)
            self._rv += 1

    def compact(self) -> None:
        """Every continue token handed out so far expires (410 Gone), as after an etcd compaction."""
        with self._lock:
            self._rv += 1
            self._compacted = self._rv

    @property
    def resource_version(self) -> int:
        return self._rv

    def _keys(self, kind: str) -> list[tuple[str, str]]:
        keys = self._sorted.get(kind)
        if keys is None:
            keys = sorted(self._objects.get(kind, {}))
            self._sorted[kind] = keys
        return keys

    # -- lists -----------------------------------------------------------------------------------
    def list_page(self, info: Kind, namespace: str, query: dict[str, str]) -> tuple[int, k8s.Obj]:
        """(status, body) of one list request."""
        try:
            limit = int(query.get("limit") or 0)
            fields = _field_selector(query.get("fieldSelector", ""))
            labels = _label_selector(query.get("labelSelector", ""))
        except ValueError as exc:
            return 400, status_doc(400, "BadRequest", str(exc))
        token = query.get("continue")
        with self._lock:
            keys = self._keys(info.kind)
            bucket = self._objects.get(info.kind, {})
            list_rv = self._rv
            start = bisect.bisect_left(keys, (namespace, "")) if namespace else 0
            if token:
                try:
                    decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
                    list_rv, after = int(decoded["rv"]), (str(decoded["start"][0]), str(decoded["start"][1]))
                except (ValueError, KeyError, TypeError, IndexError):
                    return 400, status_doc(400, "BadRequest", "continue key is not valid")
                if list_rv < self._compacted:
                    return 410, status_doc(410, "Expired", _EXPIRED)
                start = bisect.bisect_right(keys, after)
            items: list[k8s.Obj] = []
            i = start
            while (
                i < len(keys)
                and (not namespace or keys[i][0] == namespace)
                and (limit <= 0 or len(items) < limit)
            ):
                obj = bucket[keys[i]]
                if _matches(obj, fields, labels):
                    items.append(obj)
                i += 1
            more = i < len(keys) and (not namespace or keys[i][0] == namespace)
            end = bisect.bisect_left(keys, (namespace + "\x00", "")) if namespace else len(keys)
            remaining = end - i
            last = keys[i - 1] if i > start else None
        meta: k8s.Obj = {"resourceVersion": str(list_rv)}
        if more and limit > 0 and last is not None:
            meta["continue"] = (
                base64.urlsafe_b64encode(json.dumps({"rv": list_rv, "start": list(last)}).encode())
                .decode()
                .rstrip("=")
            )
            if not fields and not labels:
                meta["remainingItemCount"] = remaining
        body = {
            "kind": info.list_kind,
            "apiVersion": info.api_version,
            "metadata": meta,
            "items": [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in items],
        }
        return 200, body


_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(
            f"unknown kind {kind!r}; known: {', '.join(sorted(KINDS))} (or k8s.register_kind)"
        ) from None


def status_doc(code: int, reason: str, message: str, details: k8s.Obj | None = None) -> k8s.Obj:
    doc: k8s.Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        doc["details"] = details
    return doc


def _field_selector(text: str) -> list[tuple[str, str, bool]]:
    out = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        m = re.fullmatch(r"([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)", term)
        if m is None:
            raise ValueError(f"invalid field selector: {term!r}")
        out.append((m.group(1), m.group(3), m.group(2) != "!="))
    return out


_LABEL_TERM = re.compile(
    r"\s*(!?)([A-Za-z0-9_./-]+)\s*(?:(==|!=|=)\s*([A-Za-z0-9_.-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*"
)


def _label_selector(text: str) -> list[tuple[str, str, set[str]]]:
    """(key, op, values) with op one of exists, !exists, in, notin."""
    out: list[tuple[str, str, set[str]]] = []
    for term in filter(None, (t for t in re.split(r",(?![^()]*\))", text))):
        m = _LABEL_TERM.fullmatch(term)
        if m is None:
            raise ValueError(f"invalid label selector: {term!r}")
        bang, key, eq, value, setop, values = m.groups()
        if bang:
            out.append((key, "!exists", set()))
        elif eq:
            out.append((key, "notin" if eq == "!=" else "in", {value}))
        elif setop:
            out.append((key, setop, {v.strip() for v in values.split(",") if v.strip()}))
        else:
            out.append((key, "exists", set()))
    return out


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _matches(
    obj: k8s.Obj, fields: list[tuple[str, str, bool]], labels: list[tuple[str, str, set[str]]]
) -> bool:
    for path, value, equal in fields:
        found = _dig(obj, path)
        if (str(found if found is not None else "") == value) != equal:
            return False
    obj_labels = (obj.get("metadata") or {}).get("labels") or {}
    for key, op, values in labels:
        present = key in obj_labels
        if (
            (op == "exists" and not present)
            or (op == "!exists" and present)
            or (op == "in" and (not present or obj_labels[key] not in values))
            or (op == "notin" and present and obj_labels[key] in values)
        ):
            return False
    return True
