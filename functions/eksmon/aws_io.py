"""The scan's I/O layer around each botocore client: one memo of reads, per account+region limits on
requests in flight, throttling budgets and the deadline, counting, and checks of broken answers.

It works through botocore's documented events (``client.meta.events``) and a thin view of each client
(:class:`ScanClient`), never by replacing a client's internals; docs/architecture.md, "The I/O layer",
says which event does what. The pieces every caller shares (the counter, the deadline, the errors, the
paginated reads) are in :mod:`eksmon.aws`.
"""

from __future__ import annotations

import functools
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.client
import botocore.exceptions
import botocore.loaders
import botocore.paginate
from botocore.config import Config

from eksmon.aws import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    CRITICAL_OPERATIONS,
    THROTTLING_CODES,
    ApiCallCounter,
    BrokenAnswer,
    Deadline,
    DeadlineExceeded,
    limit_pages,
    paginator_model,
)
from eksmon.settings import AwsSettings

# top-level members an operation always returns; a 200 answer without one was cut short
ALWAYS_RETURNED: dict[tuple[str, str], str] = {
    ("eks", "ListClusters"): "clusters",
    ("eks", "DescribeCluster"): "cluster",
    ("eks", "DescribeClusterVersions"): "clusterVersions",
    ("eks", "ListNodegroups"): "nodegroups",
    ("eks", "DescribeNodegroup"): "nodegroup",
    ("eks", "ListAddons"): "addons",
    ("eks", "DescribeAddon"): "addon",
    ("eks", "DescribeAddonVersions"): "addons",
    ("eks", "ListInsights"): "insights",
    ("eks", "DescribeInsight"): "insight",
    ("eks", "ListFargateProfiles"): "fargateProfileNames",
    ("service-quotas", "ListServiceQuotas"): "Quotas",
    ("service-quotas", "ListAWSDefaultServiceQuotas"): "Quotas",
    ("cloudwatch", "GetMetricData"): "MetricDataResults",
}

READ_PREFIXES = ("List", "Describe", "Get")


class _Once:
    """One answer (or error) per key, made once even when threads ask at the same time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[Any, tuple[bool, Any]] = {}
        self._making: dict[Any, threading.Event] = {}

    def get(self, key: Any, make: Callable[[], Any], keep_error: Callable[[BaseException], bool]) -> Any:
        while True:
            with self._lock:
                if key in self._values:
                    ok, value = self._values[key]
                    if ok:
                        return value
                    raise value
                event = self._making.get(key)
                if event is None:
                    event = self._making[key] = threading.Event()
                    break
            event.wait()
        try:
            value = make()
        except BaseException as exc:
            with self._lock:
                if keep_error(exc):
                    self._values[key] = (False, exc)
                del self._making[key]
            event.set()
            raise
        with self._lock:
            self._values[key] = (True, value)
            del self._making[key]
        event.set()
        return value

    def __len__(self) -> int:
        return len(self._values)


class ScanIO:
    """What every AWS client of one scan shares: the memo, per account+region limits, the deadline."""

    def __init__(self, aws: AwsSettings, deadline: Deadline | None = None) -> None:
        self.aws = aws
        self.deadline = deadline or Deadline()
        self.requests = _Once()
        self.shared = _Once()
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, str], threading.BoundedSemaphore] = {}
        self.in_flight = 0
        self.peak_in_flight = 0

    def slots(self, account: str, region: str) -> threading.BoundedSemaphore:
        with self._lock:
            found = self._slots.get((account, region))
            if found is None:
                found = self._slots[(account, region)] = threading.BoundedSemaphore(
                    self.aws.max_in_flight_per_region
                )
            return found

    def instrument(self, client: Any, account: str, region: str) -> ScanClient:
        """The scan's view of one client: its reads answered from the memo, and botocore's events
        hooked for the throttling budget, the deadline, the in-flight limit and the broken-answer checks."""
        hooks = _ClientHooks(self, client, account, region)
        events = client.meta.events
        service_id = client.meta.service_model.service_id.hyphenize()
        # botocore calls the handlers of a more specific event name first, and those of one name in the
        # order they were registered: the slot is taken on the generic ``before-send`` after the
        # adaptive rate limiter has paced the send, and the throttling budget (generic ``needs-retry``)
        # decides after botocore's own retry handler (``needs-retry.<service>``) has
        events.register(f"before-call.{service_id}", hooks.before_call)
        events.register("before-send", hooks.take_slot)
        events.register(f"before-parse.{service_id}", hooks.check_body)
        events.register(f"response-received.{service_id}", hooks.answered)
        events.register("needs-retry", hooks.throttle_budget)
        events.register(f"after-call.{service_id}", hooks.check_members)
        events.register(f"after-call-error.{service_id}", hooks.failed)
        scan_client = ScanClient(client, self, account, region)
        limit_pages(scan_client, self.aws.max_pages)
        return scan_client


# the in-flight slot the current thread holds for the HTTP attempt it is making (one at a time)
_HELD = threading.local()
_STARTED = "eksmon.started"  # keys this module keeps in botocore's request context
_BACKOFFS = "eksmon.backoffs"
_OPERATION = "eksmon.operation"


class _ClientHooks:
    """botocore event handlers for one client of a scan (see :class:`ScanIO`)."""

    def __init__(self, io: ScanIO, client: Any, account: str, region: str) -> None:
        self.io = io
        model = client.meta.service_model
        self.service = model.service_name
        # the protocol on the wire: CloudWatch's model lists CBOR first, but botocore speaks JSON to it
        # (older botocore has no resolved_protocol: the model's protocol is the one then)
        self.protocol = getattr(model, "resolved_protocol", None) or model.protocol
        self.slots = io.slots(account, region)

    # -- one call --------------------------------------------------------------------------------------
    def before_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        """``before-call``: no call starts once the scan's deadline has passed; the throttling budget
        counts from here."""
        if self.io.deadline.passed:
            raise DeadlineExceeded(model.name)
        context[_STARTED] = time.monotonic()
        context[_OPERATION] = model.name

    def throttle_budget(
        self, response: Any, operation: Any, request_dict: dict[str, Any], **_: Any
    ) -> float | None:
        """``needs-retry``, after botocore's retry handler: a throttled answer botocore will not try
        again (its attempts or its retry quota are spent) is tried again after a jittered pause, while
        the call's budget and the scan's deadline allow. None leaves the decision to botocore."""
        if not response:
            return None  # no answer: botocore's attempts decide
        parsed = response[1] or {}
        if parsed.get("Error", {}).get("Code") not in THROTTLING_CODES:
            return None
        metadata = parsed.get("ResponseMetadata", {})
        if not (metadata.get("MaxAttemptsReached") or metadata.get("RetryQuotaReached")):
            return None  # botocore retries it itself
        io = self.io
        context = request_dict["context"]
        critical = (self.service, operation.name) in CRITICAL_OPERATIONS
        budget = io.aws.critical_throttle_budget_seconds if critical else io.aws.throttle_budget_seconds
        backoffs = context[_BACKOFFS] = context.get(_BACKOFFS, 0) + 1
        cap = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**backoffs)
        pause = random.uniform(cap / 2, cap)  # noqa: S311 - jitter, not a secret
        started = context.get(_STARTED, time.monotonic())
        if time.monotonic() - started + pause > budget or pause >= io.deadline.remaining():
            return None
        return pause

    def check_members(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        """``after-call``: a 200 answer without the member its operation always returns was cut short
        (or was not JSON at all: botocore parses such a body as ``{"message": body}``, see check_body)."""
        if http_response.status_code >= 300:
            return
        member = ALWAYS_RETURNED.get((self.service, model.name))
        if member is not None and member not in parsed:
            read = http_response.status_code == 200 and self._json_body(model)
            body = (http_response.content or b"") if read else b""
            if body and not _is_json(body):
                raise self._not_json(model.name, body)
            raise BrokenAnswer(
                model.name,
                f"{self.service}:{model.name} answered without {member!r}: the answer was cut short",
            )

    def failed(self, exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        """``after-call-error``: the attempt's slot is given back, and a timeout or reset names its call."""
        self._release()
        if isinstance(exception, botocore.exceptions.BotoCoreError):
            exception.operation_name = context.get(_OPERATION)

    # -- one HTTP attempt ------------------------------------------------------------------------------
    def take_slot(self, request: Any, **_: Any) -> None:
        """``before-send``: hold one of the account+region's in-flight slots until the answer is read."""
        io = self.io
        if not self.slots.acquire(timeout=max(0.0, min(io.deadline.remaining(), 3600.0))):
            raise DeadlineExceeded("send")
        _HELD.slot = (io, self.slots)
        with io._lock:
            io.in_flight += 1
            io.peak_in_flight = max(io.peak_in_flight, io.in_flight)

    def answered(self, **_: Any) -> None:
        """``response-received`` (an answer or a send that failed): the slot is free again."""
        self._release()

    @staticmethod
    def _release() -> None:
        held = getattr(_HELD, "slot", None)
        if held is None:
            return
        _HELD.slot = None
        io, slots = held
        with io._lock:
            io.in_flight -= 1
        slots.release()

    def check_body(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        """``before-parse``: the answer has been read (its slot is free again); botocore reads a JSON body
        it cannot decode as ``{"message": body}``: refuse it instead. An operation with a member it always
        returns is left to check_members, which sees the same body missing that member after botocore's
        own decoding: one decoding of every answer, not two."""
        self._release()
        if response_dict.get("status_code") != 200 or not self._json_body(operation_model):
            return
        if (self.service, operation_model.name) in ALWAYS_RETURNED:
            return
        body = response_dict.get("body") or b""
        if body and not _is_json(body):
            raise self._not_json(operation_model.name, body)

    def _json_body(self, operation_model: Any) -> bool:
        return self.protocol in ("json", "rest-json") and not operation_model.has_streaming_output

    def _not_json(self, operation: str, body: bytes) -> BrokenAnswer:
        return BrokenAnswer(
            operation,
            f"{self.service}:{operation} answered 200 with {len(body)} bytes that are not "
            f"valid JSON (starting {bytes(body[:40])!r})",
        )


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


_OWN = frozenset({"client", "io", "_where", "_paginators"})


class ScanClient:
    """One botocore client as a scan's collectors see it: every attribute is the client's, and a read
    (``List*``, ``Describe*``, ``Get*``) already made in this scan, with the same parameters, is
    answered from the scan's memo without reaching botocore. Paginators page through the same reads."""

    def __init__(self, client: Any, io: ScanIO, account: str, region: str) -> None:
        self.client = client
        self.io = io
        self._where = (account, region, client.meta.service_model.service_name)
        self._paginators: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name in _OWN:  # not set yet (a copy being made): not the client's either
            raise AttributeError(name)
        found = getattr(self.client, name)
        operation = self.client.meta.method_to_api_mapping.get(name)
        if operation is None or not operation.startswith(READ_PREFIXES):
            return found
        read = functools.partial(self._read, operation, found)
        self.__dict__[name] = read  # made once: later lookups do not reach __getattr__
        return read

    def _read(self, operation: str, method: Callable[..., Any], **params: Any) -> Any:
        key = (*self._where, operation, json.dumps(params, sort_keys=True, default=str))
        return self.io.requests.get(
            key, lambda: method(**params), keep_error=lambda exc: not isinstance(exc, DeadlineExceeded)
        )

    def paginator(self, operation: str) -> Any:
        """This view's paginator for ``operation``, made once (see :func:`_paginator`)."""
        found = self._paginators.get(operation)
        if found is None:
            found = self._paginators.setdefault(operation, self.get_paginator(operation))
        return found

    def get_paginator(self, operation: str) -> Any:
        """botocore's paginator for ``operation``, paging through this view's memoized reads."""
        if not self.client.can_paginate(operation):
            return self.client.get_paginator(operation)  # raises OperationNotPageableError
        model = self.client.meta.service_model
        name = self.client.meta.method_to_api_mapping[operation]
        config = paginator_model(model.service_name, model.api_version).get_paginator(name)
        return botocore.paginate.Paginator(getattr(self, operation), config, model.operation_model(name))


@dataclass
class AwsAccount:
    """Credentials for one account; hands out one shared client per (service, region)."""

    account_id: str
    session: boto3.Session
    config: Config
    counter: ApiCallCounter
    io: ScanIO | None = None
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:  # boto3 sessions are not thread-safe; clients are
            found = self._clients.get(key)
            if found is None:
                found = self.session.client(service, region_name=region, config=self.config)
                self.counter.attach(found)
                if self.io is not None:
                    found = self.io.instrument(found, self.account_id, region)
                self._clients[key] = found
            return found
