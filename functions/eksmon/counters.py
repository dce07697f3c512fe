"""Counter values kept from one deployed run to the next, in the findings table (one item per key).

A Prometheus counter counts since its process started; what an operator wants is what happened
since the last look. The deployed monitors keep the values they read under a key of their own
(``counters#...``, never a fingerprint, never open, so the findings index never sees it) and read
them back next run. ``eksmon scan`` has no table: its counts are since the process started, and the
checks say so. Uses only the findings table's grant (BatchGetItem, UpdateItem).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import botocore.exceptions

from eksmon.models import iso_utc
from eksmon.state import PARTITION_KEY, TTL_ATTRIBUTE, StateError

RETENTION = timedelta(days=7)  # a cluster not scanned for a week starts over


@dataclass(frozen=True, slots=True)
class Previous:
    values: dict[str, float]
    at: datetime


class CounterStore:
    """``swap(key, values)``: store this run's values and return the previous run's (or None).

    A run at an instant no later than the stored one (the demo's second pass, a replay with
    ``--now``) is a re-run: it compares with what the run before that saw, so it reports the same.
    """

    def __init__(self, client: Any, table: str, now: datetime) -> None:
        self.client = client
        self.table = table
        self.now = now

    def swap(self, key: str, values: dict[str, float]) -> Previous | None:
        item_key = {PARTITION_KEY: {"S": f"counters#{key}"}}
        try:
            answer = self.client.batch_get_item(
                RequestItems={self.table: {"Keys": [item_key], "ConsistentRead": True}}
            )
            found = answer.get("Responses", {}).get(self.table, [])
            stored = _read(found[0], "counters", "counted_at") if found else None
            rerun = stored is not None and stored.at >= self.now
            previous = _read(found[0], "earlier_counters", "earlier_at") if rerun else stored
            sets = [f"counters = :c, counted_at = :at, {TTL_ATTRIBUTE} = :exp"]
            names: dict[str, Any] = {
                ":c": {"S": json.dumps(values, sort_keys=True)},
                ":at": {"S": iso_utc(self.now)},
                ":exp": {"N": str(int((self.now + RETENTION).timestamp()))},
            }
            if not rerun:  # what this run compared with becomes what a re-run of it compares with
                sets.append("earlier_counters = :b, earlier_at = :bat")
                names[":b"] = {"S": json.dumps(previous.values if previous else None)}
                names[":bat"] = {"S": iso_utc(previous.at) if previous else ""}
            self.client.update_item(
                TableName=self.table,
                Key=item_key,
                UpdateExpression="SET " + ", ".join(sets),
                ExpressionAttributeValues=names,
            )
        except botocore.exceptions.ClientError as exc:
            raise StateError(f"findings table {self.table}: counters for {key}: {exc}") from exc
        return previous


def _read(raw: dict[str, Any], values: str, at: str) -> Previous | None:
    try:
        data = json.loads(raw[values]["S"])
        if not isinstance(data, dict) or not raw[at]["S"]:
            return None
        moment = datetime.fromisoformat(raw[at]["S"])
        return Previous({k: float(v) for k, v in data.items()}, moment)
    except (KeyError, ValueError, TypeError):
        return None  # absent or unreadable: count since start this once


__all__ = ["CounterStore", "Previous"]
