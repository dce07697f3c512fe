"""Findings state in DynamoDB, keyed by fingerprint: what was told, so each change is told once.

One item per fingerprint. A run decides what changed against the items (read consistently), then for
each change **claims** it with a conditional write (the item's ``version`` must be the one it read, or
the item must not exist), publishes what it claimed, and **commits** each claim (condition: its own
claim token is still there). So:

* two runs at once: for each change exactly one claim succeeds; the other run skips it, and while the
  claim is younger than the lease a run never re-sends it;
* a crash after the claim (before or after publishing): the claim stays uncommitted; once the lease
  has passed, the next run decides again from the last committed state and sends the change again.
  A notification is never lost; after a crash between publishing and committing it is sent twice.

The lease is Lambda's maximum timeout: a claim older than that belongs to an invocation that is gone.

Resolution: an open item that this monitor reported and did not find again is resolved only when this
run really looked (its account and region were scanned, the cluster was read or is no longer listed,
and the check's inputs were collected); otherwise a failing source would "resolve" findings and they
would come back as new. A ``monitor.run_time`` is about the run itself: a run that scanned its pair and did
not raise it again resolves it. A finding reported by several monitors (the same collection error) stays open
until every one of them stops reporting it. Resolved items expire through the table's TTL attribute.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import botocore.exceptions
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from eksmon.models import Finding, Severity, iso_utc
from eksmon.parts import ClusterNames
from eksmon.parts.scan import COLLECTION_ERROR, FILTER_MATCHES_NOTHING, RUN_TIME, ScanResult
from eksmon.publish.changes import Change, ChangeKind
from eksmon.snapshot import ClusterSnapshot, RegionSnapshot

log = logging.getLogger(__name__)

PARTITION_KEY = "fingerprint"
OPEN_INDEX = "open-by-region"  # sparse GSI: partition key OPEN_KEY, only on open items
OPEN_KEY = "open_key"  # "<account>#<region>" while the finding is open
TTL_ATTRIBUTE = "expires_at"
CLAIM_LEASE = timedelta(minutes=15)  # Lambda's maximum timeout
RESOLVED_RETENTION = timedelta(days=30)  # resolved items are kept this long (a reappearance says so)
UNCOMMITTED_RETENTION = timedelta(days=2)  # a claim on a new finding that was never sent
_BATCH = 100  # BatchGetItem's limit
_OPEN, _RESOLVED = "open", "resolved"

_ser = TypeSerializer()
_deser = TypeDeserializer()


class StateError(RuntimeError):
    """The findings table cannot be used (missing, no permission): nothing is sent rather than too much."""


@dataclass(frozen=True)
class Item:
    """One state item as read."""

    fingerprint: str
    version: int
    status: str | None  # None: a claim on a new finding that was never committed
    severity: Severity | None
    notified_at: datetime | None
    first_seen: str | None
    seen_by: frozenset[str]
    pending_at: datetime | None
    finding: Finding | None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Item:
        d = {k: _deser.deserialize(v) for k, v in raw.items()}
        pending = d.get("pending") or {}
        finding = None
        if d.get("finding"):
            try:
                finding = Finding.model_validate_json(d["finding"])
            except ValueError:
                log.warning("findings state: unreadable finding in item %s", d[PARTITION_KEY])
        return cls(
            fingerprint=d[PARTITION_KEY],
            version=int(d.get("version", 0)),
            status=d.get("status"),
            severity=Severity(d["severity"]) if d.get("severity") else None,
            notified_at=_parse_time(d.get("notified_at")),
            first_seen=d.get("first_seen"),
            seen_by=frozenset((d.get("seen_by") or {}).keys()),
            pending_at=_parse_time(pending.get("at")),
            finding=finding,
        )


@dataclass(frozen=True)
class Decision:
    """A change to claim (``change`` set) or a quiet bookkeeping update (``change`` None)."""

    fingerprint: str
    expected_version: int | None  # None: the item must not exist
    change: Change | None = None
    see: bool | None = None  # quiet update: True adds this monitor to seen_by, False removes it


@dataclass(frozen=True)
class Claim:
    change: Change
    token: str


class FindingsState:
    """The state of one monitor's findings for one run (``now`` is the run's clock)."""

    def __init__(
        self,
        client: Any,
        table: str,
        monitor: str,
        now: datetime,
        renotify: timedelta,
        lease: timedelta = CLAIM_LEASE,
    ) -> None:
        self.client = client
        self.table = table
        self.monitor = monitor
        self.now = now
        self.renotify = renotify
        self.lease = lease
        self.token = uuid.uuid4().hex

    # -- read and decide ---------------------------------------------------------------------------
    def plan(self, result: ScanResult) -> list[Decision]:
        current = {f.fingerprint: f for f in result.findings}
        candidates = self._open_fingerprints({(r.account, r.region) for r in result.regions})
        items = self._get(set(current) | candidates)
        decisions = [self._decide_present(f, items.get(fp)) for fp, f in sorted(current.items())]
        coverage = Coverage(result)
        for fp in sorted(candidates - set(current)):
            item = items.get(fp)
            if item is not None:
                decisions.append(self._decide_absent(item, coverage))
        return [d for d in decisions if d.change is not None or d.see is not None]

    def _live(self, item: Item) -> bool:
        return item.pending_at is not None and self.now - item.pending_at < self.lease

    def _decide_present(self, f: Finding, item: Item | None) -> Decision:
        if item is None:
            return Decision(f.fingerprint, None, Change(ChangeKind.NEW, f))
        if self._live(item):
            return Decision(f.fingerprint, item.version)  # another run is telling it right now
        change = self._change(f, item)
        if change is None and self.monitor not in item.seen_by:
            return Decision(f.fingerprint, item.version, see=True)
        return Decision(f.fingerprint, item.version, change)

    def _change(self, f: Finding, item: Item) -> Change | None:
        """What changed since the last committed notification, if anything."""
        if item.status != _OPEN:
            return Change(ChangeKind.NEW, f)  # never sent, or resolved and back again
        if item.severity is not f.severity:
            return Change(ChangeKind.SEVERITY_CHANGED, f, previous_severity=item.severity)
        if item.notified_at is None or self.now - item.notified_at >= self.renotify:
            return Change(ChangeKind.STILL_OPEN, f, open_since=item.first_seen)
        return None

    def _decide_absent(self, item: Item, coverage: Coverage) -> Decision:
        f = item.finding
        if item.status != _OPEN or f is None or self._live(item) or self.monitor not in item.seen_by:
            return Decision(item.fingerprint, item.version)
        if not coverage.looked_at(f):
            return Decision(item.fingerprint, item.version)
        if item.seen_by - {self.monitor}:
            return Decision(item.fingerprint, item.version, see=False)  # another monitor still reports it
        return Decision(
            item.fingerprint, item.version, Change(ChangeKind.RESOLVED, f, open_since=item.first_seen)
        )

    # -- write -------------------------------------------------------------------------------------
    def claim(self, decisions: Iterable[Decision]) -> list[Claim]:
        """Claim each change with a conditional write; the ones another run got first are skipped."""
        claims = []
        for d in decisions:
            if d.change is None:
                self._see(d)
            elif self._claim(d):
                claims.append(Claim(d.change, self.token))
        return claims

    def _claim(self, d: Decision) -> bool:
        assert d.change is not None
        f = d.change.finding
        now = iso_utc(self.now)
        pending = {"token": self.token, "at": now, "kind": d.change.kind.value, "severity": f.severity.value}
        values: dict[str, Any] = {":pending": pending, ":one": 1}
        sets = ["pending = :pending", "version = if_not_exists(version, :zero) + :one"]
        values[":zero"] = 0
        if d.expected_version is None:
            condition = "attribute_not_exists(fingerprint)"
            sets += [
                "check_id = :check",
                "account = :account",
                "#region = :region",
                "#cluster = :cluster",
                "#resource = :resource",
                "seen_by = :seen_by",
                f"{TTL_ATTRIBUTE} = :expires",
            ]
            values.update(
                {
                    ":check": f.check,
                    ":account": f.account,
                    ":region": f.region,
                    ":cluster": f.cluster or "-",
                    ":resource": f.resource,
                    ":seen_by": {self.monitor: now},
                    ":expires": _epoch(self.now + UNCOMMITTED_RETENTION),
                }
            )
            names = {"#region": "region", "#resource": "resource", "#cluster": "cluster"}
        else:
            condition = "version = :expected"
            values[":expected"] = d.expected_version
            names = {}
            if d.change.kind is not ChangeKind.RESOLVED:
                sets.append("seen_by.#monitor = :now")
                values[":now"] = now
                names["#monitor"] = self.monitor
        return self._update(d.fingerprint, "SET " + ", ".join(sets), condition, values, names)

    def _see(self, d: Decision) -> None:
        names = {"#monitor": self.monitor}
        values: dict[str, Any] = {":expected": d.expected_version, ":one": 1}
        if d.see:
            expression = "SET seen_by.#monitor = :now, version = version + :one"
            values[":now"] = iso_utc(self.now)
        else:
            expression = "SET version = version + :one REMOVE seen_by.#monitor"
        self._update(d.fingerprint, expression, "version = :expected", values, names)

    def commit(self, claims: Iterable[Claim]) -> int:
        """Record the claims whose message was published; returns how many were recorded."""
        done = 0
        for c in claims:
            done += self._commit(c)
        return done

    def _commit(self, c: Claim) -> bool:
        f = c.change.finding
        now = iso_utc(self.now)
        values: dict[str, Any] = {":token": c.token, ":now": now, ":one": 1}
        names = {"#token": "token"}
        if c.change.kind is ChangeKind.RESOLVED:
            expression = (
                "SET #status = :resolved, resolved_at = :now, notified_at = :now, "
                f"{TTL_ATTRIBUTE} = :expires, seen_by = :empty, version = version + :one "
                f"REMOVE pending, {OPEN_KEY}"
            )
            values.update(
                {":resolved": _RESOLVED, ":expires": _epoch(self.now + RESOLVED_RETENTION), ":empty": {}}
            )
            names["#status"] = "status"
        else:
            sets = [
                "#status = :open",
                "severity = :severity",
                "notified_at = :now",
                "finding = :finding",
                "title = :title",
                f"{OPEN_KEY} = :open_key",
                "version = version + :one",
            ]
            values.update(
                {
                    ":open": _OPEN,
                    ":severity": f.severity.value,
                    ":finding": f.model_dump_json(),
                    ":title": f.title,
                    ":open_key": f"{f.account}#{f.region}",
                }
            )
            names["#status"] = "status"
            removes = ["pending"]
            if c.change.kind is ChangeKind.NEW:
                sets.append("first_seen = :now")
                removes += [TTL_ATTRIBUTE, "resolved_at"]
            expression = "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes)
        ok = self._update(f.fingerprint, expression, "pending.#token = :token", values, names)
        if not ok:
            log.warning("findings state: claim on %s was taken over before it was recorded", f.fingerprint)
        return ok

    def release(self, claims: Iterable[Claim]) -> None:
        """Give back claims whose message could not be published, so the next run retries at once."""
        for c in claims:
            self._update(
                c.change.fingerprint,
                "SET version = version + :one REMOVE pending",
                "pending.#token = :token",
                {":token": c.token, ":one": 1},
                {"#token": "token"},
            )

    # -- DynamoDB ----------------------------------------------------------------------------------
    def _update(
        self,
        fingerprint: str,
        expression: str,
        condition: str,
        values: Mapping[str, Any],
        names: Mapping[str, str],
    ) -> bool:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": {PARTITION_KEY: {"S": fingerprint}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {k: _ser.serialize(v) for k, v in values.items()},
        }
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        try:
            self.client.update_item(**kwargs)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise _state_error(self.table, exc) from exc
        return True

    def _open_fingerprints(self, scopes: Iterable[tuple[str, str]]) -> set[str]:
        found: set[str] = set()
        for account, region in sorted(scopes):
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": OPEN_INDEX,
                "KeyConditionExpression": f"{OPEN_KEY} = :k",
                "ExpressionAttributeValues": {":k": {"S": f"{account}#{region}"}},
                "ProjectionExpression": PARTITION_KEY,
            }
            try:
                for page in _query_pages(self.client, kwargs):
                    found.update(i[PARTITION_KEY]["S"] for i in page)
            except botocore.exceptions.ClientError as exc:
                raise _state_error(self.table, exc) from exc
        return found

    def _get(self, fingerprints: Iterable[str]) -> dict[str, Item]:
        return _batch_get(self.client, self.table, fingerprints)


def open_items(client: Any, table: str) -> list[Item]:
    """Every open finding of the table, whichever monitor, account and region raised it (`eksmon findings`).

    The sparse open-by-region index holds only open items, so this reads their keys there and then
    the items themselves, consistently; resolved items kept for their TTL are never read."""
    fingerprints: set[str] = set()
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": OPEN_INDEX,
        "ProjectionExpression": PARTITION_KEY,
    }
    try:
        while True:
            answer = client.scan(**kwargs)
            fingerprints.update(i[PARTITION_KEY]["S"] for i in answer.get("Items", []))
            if not answer.get("LastEvaluatedKey"):
                break
            kwargs = {**kwargs, "ExclusiveStartKey": answer["LastEvaluatedKey"]}
    except botocore.exceptions.ClientError as exc:
        raise _state_error(table, exc) from exc
    items = _batch_get(client, table, fingerprints).values()
    return [i for i in items if i.status == _OPEN and i.finding is not None]


def _batch_get(client: Any, table: str, fingerprints: Iterable[str]) -> dict[str, Item]:
    wanted = sorted(fingerprints)
    items: dict[str, Item] = {}
    for start in range(0, len(wanted), _BATCH):
        keys = [{PARTITION_KEY: {"S": fp}} for fp in wanted[start : start + _BATCH]]
        request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(8):
            try:
                answer = client.batch_get_item(RequestItems=request)
            except botocore.exceptions.ClientError as exc:
                raise _state_error(table, exc) from exc
            for raw in answer.get("Responses", {}).get(table, []):
                item = Item.parse(raw)
                items[item.fingerprint] = item
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise StateError(f"findings table {table}: reads still unprocessed after 8 attempts")
    return items


class Coverage:
    """Which findings this run really looked for: the rule that keeps failures from resolving findings."""

    def __init__(self, result: ScanResult) -> None:
        self._names = ClusterNames
        self.regions: dict[tuple[str, str], RegionSnapshot] = {
            (r.account, r.region): r for r in result.regions
        }
        self.checks = {c.id: c for c in result.checks}
        self.failed_checks = {
            (f.account, f.region, f.cluster, f.resource.removeprefix("source/check/"))
            for f in result.findings
            if f.check == COLLECTION_ERROR and f.resource.startswith("source/check/")
        }

    def looked_at(self, f: Finding) -> bool:
        region = self.regions.get((f.account, f.region))
        if region is None:
            return False  # account or region not scanned by this run (role not assumable, not configured)
        snap: ClusterSnapshot | RegionSnapshot = region
        if f.cluster is not None:
            found = self._cluster_scope(region, f.cluster)
            if found is None:
                return region.has(self._names)  # cluster gone or excluded, if the list itself was read
            snap = found
        if f.check == COLLECTION_ERROR:
            return True  # the scope was scanned and the source did not fail again
        if f.check in (RUN_TIME, FILTER_MATCHES_NOTHING):
            return (
                True  # a run that scanned the pair measured itself (and its filters): not again, it is over
            )
        spec = self.checks.get(f.check)
        if spec is None or (f.account, f.region, f.cluster, spec.id) in self.failed_checks:
            return False  # not one of this run's checks, or it crashed on this scope
        return all(snap.has(n) for n in spec.needs)

    def _cluster_scope(self, region: RegionSnapshot, name: str) -> ClusterSnapshot | RegionSnapshot | None:
        """The cluster's snapshot; the region's for a listed cluster this monitor reads only through
        region-level parts (e.g. quotas); None when the cluster is not listed (or the list was not read)."""
        cluster = next((c for c in region.clusters if c.name == name), None)
        if cluster is not None:
            return cluster
        if region.has(self._names) and name in region.get(self._names).names:
            return region
        return None


def _query_pages(client: Any, kwargs: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    while True:
        answer = client.query(**kwargs)
        yield answer.get("Items", [])
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        kwargs = {**kwargs, "ExclusiveStartKey": last}


def _state_error(table: str, exc: botocore.exceptions.ClientError) -> StateError:
    code = exc.response.get("Error", {}).get("Code", "ClientError")
    return StateError(f"findings table {table} (FINDINGS_TABLE): {exc.operation_name} failed with {code}")


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text)


def create_table(client: Any, name: str) -> None:
    """The table as the stack builds it (for the demo, the simulator and tests)."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": OPEN_KEY, "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": OPEN_INDEX,
                "KeySchema": [
                    {"AttributeName": OPEN_KEY, "KeyType": "HASH"},
                    {"AttributeName": PARTITION_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


def dump(client: Any, table: str) -> list[dict[str, Any]]:
    """Every item, deserialised (tests and debugging)."""
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        out += [{k: _deser.deserialize(v) for k, v in i.items()} for i in page.get("Items", [])]
        if not page.get("LastEvaluatedKey"):
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


__all__ = [
    "CLAIM_LEASE",
    "Claim",
    "Decision",
    "FindingsState",
    "Item",
    "StateError",
    "create_table",
    "dump",
    "open_items",
]
