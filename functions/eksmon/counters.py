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
    """``swap(key, values)``: store this run's values and return the previous run's (or None)."""

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
            self.client.update_item(
                TableName=self.table,
                Key=item_key,
                UpdateExpression=f"SET counters = :c, counted_at = :at, {TTL_ATTRIBUTE} = :exp",
                ExpressionAttributeValues={
                    ":c": {"S": json.dumps(values, sort_keys=True)},
                    ":at": {"S": iso_utc(self.now)},
                    ":exp": {"N": str(int((self.now + RETENTION).timestamp()))},
                },
            )
        except botocore.exceptions.ClientError as exc:
            raise StateError(f"findings table {self.table}: counters for {key}: {exc}") from exc
        found = answer.get("Responses", {}).get(self.table, [])
        if not found:
            return None
        raw = found[0]
        try:
            at = datetime.fromisoformat(raw["counted_at"]["S"].replace("Z", "+00:00"))
            return Previous({k: float(v) for k, v in json.loads(raw["counters"]["S"]).items()}, at)
        except (KeyError, ValueError, TypeError):
            return None  # an unreadable item: count since start this once


__all__ = ["CounterStore", "Previous"]
