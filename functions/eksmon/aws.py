"""AWS access: one boto3 session per account, one client per service, account and region, every call counted.

AWS_PROFILE, AWS_REGION / AWS_DEFAULT_REGION and AWS_ENDPOINT_URL work as in any boto3 program;
the monitor has no endpoint flag of its own.

Fleet-scale I/O (:class:`ScanIO`, one per scan) wraps every client the scan hands out:

* **one memo per scan** -- an identical read request (same account, region, operation and
  parameters) is sent once; a second collector that makes it gets the first answer (or its error).
  Reads several regions share (the version calendar) go through ``CollectContext.shared``. A new read needs nothing: the memo keys on the request itself.
* **bounded per account and region** -- at most ``aws.max_in_flight_per_region`` HTTP requests of
  one account+region are in flight; each client keeps botocore's adaptive rate limiter for the
  whole scan, so every thread of a region shares one limiter per service.
* **time budgets, not try counts** -- botocore makes ``aws.max_attempts`` attempts (3 by default, as
  the SDKs' standard retry mode: a dropped connection or read timeout is retried twice); a call still
  throttled after them is retried with jittered backoff until
  its budget (``aws.throttle_budget_seconds``; ``critical_throttle_budget_seconds`` for ListClusters
  and DescribeCluster, which everything else waits on) or the scan's deadline runs out.
* **nothing lost in silence** -- an answer that is not valid JSON, or that lacks the top-level member
  its operation always returns (botocore does not raise on a truncated body), raises
  :class:`BrokenAnswer`; a list with more than ``aws.max_pages`` pages raises :class:`EndlessPages`.
  Both are ``ClientError`` s, so every collector reports them like any other failed call.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from eksmon.settings import AwsSettings


class ApiCallCounter:
    """Counts API calls (``eks.DescribeCluster``) and HTTP attempts, retries included, and the answers
    that were throttling errors (``throttled``: each is retried, by botocore and then by the call's
    throttling budget, unless that budget or the scan's deadline ran out)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.attempts = 0
        self.throttled = 0

    def _on_call(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        with self._lock:
            self.calls[name] += 1

    def _on_send(self, **_: Any) -> None:
        with self._lock:
            self.attempts += 1

    def _on_answer(self, response: Any = None, **_: Any) -> None:
        """botocore's ``needs-retry`` (once per HTTP attempt, before it decides to retry): count a
        throttling answer. Returns None, so botocore's own retry handler decides as before."""
        if not response:
            return  # no answer: a connection error or timeout, not throttling
        _http, parsed = response
        code = (parsed or {}).get("Error", {}).get("Code")
        if code in THROTTLING_CODES:
            with self._lock:
                self.throttled += 1

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call", self._on_call)
        client.meta.events.register("before-send", self._on_send)
        client.meta.events.register("needs-retry", self._on_answer)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def client_config(aws: AwsSettings, pool: int = 10) -> Config:
    return Config(
        retries={"mode": aws.retry_mode, "total_max_attempts": aws.max_attempts},  # attempts, not retries
        connect_timeout=aws.connect_timeout,
        read_timeout=aws.read_timeout,
        max_pool_connections=pool,
        user_agent_appid="eksmon",
    )


# -- errors the I/O layer raises (ClientErrors, so collectors report them like any failed call) ----------
def _client_error(code: str, message: str, operation: str) -> dict[str, Any]:
    return {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}


class BrokenAnswer(botocore.exceptions.ClientError):  # type: ignore[misc]
    """A 200 answer that cannot be used: not valid JSON, or without the member the operation returns."""

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(_client_error("BrokenAnswer", message, operation), operation)


class EndlessPages(botocore.exceptions.ClientError):  # type: ignore[misc]
    """A list whose next token repeats or never ends (more pages than ``aws.max_pages``)."""

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(_client_error("EndlessPagination", message, operation), operation)


class DeadlineExceeded(botocore.exceptions.ClientError):  # type: ignore[misc]
    """The scan's deadline passed before this call could be made (or finish its retries)."""

    def __init__(self, operation: str, message: str = "the scan's deadline passed") -> None:
        super().__init__(_client_error("DeadlineExceeded", message, operation), operation)


THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
    }
)
# the calls every other read of a region or cluster waits on: a longer throttling budget
CRITICAL_OPERATIONS = frozenset({("eks", "ListClusters"), ("eks", "DescribeCluster")})
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
_READ_PREFIXES = ("List", "Describe", "Get")
# after botocore's own attempts: 0.1-0.2 s, 0.2-0.4 s, ... up to 1-2 s between tries (full speed again
# as soon as the throttling stops; the adaptive rate limiter paces the sends in between)
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 2.0


def is_throttling(exc: BaseException) -> bool:
    return isinstance(exc, botocore.exceptions.ClientError) and error_code(exc) in THROTTLING_CODES


class Deadline:
    """A point on the monotonic clock after which no new AWS call is made (None: no deadline)."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float:
        return float("inf") if self.at is None else self.at - time.monotonic()

    def elapsed(self) -> float:
        """Seconds of the budget spent since the deadline was made (0 without a deadline)."""
        return 0.0 if self.seconds is None else self.seconds - self.remaining()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0


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

    def instrument(self, client: Any, account: str, region: str) -> None:
        """Wrap one client: memo, throttling budget, deadline, in-flight limit, broken-answer checks."""
        wrapped = _ClientIO(self, client, account, region)
        limit_pages(client, self.aws.max_pages)
        client._endpoint._send = wrapped.send
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-parse.{service_id}", wrapped.check_body)
        client._make_api_call = wrapped.call


class _ClientIO:
    """The wrappers of one client (see :class:`ScanIO`)."""

    def __init__(self, io: ScanIO, client: Any, account: str, region: str) -> None:
        self.io = io
        self.account = account
        self.region = region
        model = client.meta.service_model
        self.service = model.service_name
        # the protocol on the wire: CloudWatch's model lists CBOR first, but botocore speaks JSON to it
        # (older botocore has no resolved_protocol: the model's protocol is the one then)
        self.protocol = getattr(model, "resolved_protocol", None) or model.protocol
        self._call = client._make_api_call
        self._send = client._endpoint._send
        self.slots = io.slots(account, region)

    def send(self, request: Any) -> Any:
        """One HTTP attempt, holding one of the account+region's in-flight slots."""
        io = self.io
        if not self.slots.acquire(timeout=max(0.0, min(io.deadline.remaining(), 3600.0))):
            raise DeadlineExceeded("send")
        with io._lock:
            io.in_flight += 1
            io.peak_in_flight = max(io.peak_in_flight, io.in_flight)
        try:
            return self._send(request)
        finally:
            with io._lock:
                io.in_flight -= 1
            self.slots.release()

    def check_body(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        """botocore reads a JSON body it cannot decode as ``{"message": body}``: refuse it instead."""
        if response_dict.get("status_code") != 200 or self.protocol not in ("json", "rest-json"):
            return
        body = response_dict.get("body") or b""
        if not body or operation_model.has_streaming_output:
            return
        try:
            json.loads(body)
        except ValueError:
            raise BrokenAnswer(
                operation_model.name,
                f"{self.service}:{operation_model.name} answered 200 with {len(body)} bytes that are not "
                f"valid JSON (starting {bytes(body[:40])!r})",
            ) from None

    def call(self, operation: str, params: dict[str, Any]) -> Any:
        """The client's ``_make_api_call``: a read already made in this scan is answered from the memo."""
        if not operation.startswith(_READ_PREFIXES):
            return self._budgeted(operation, params)
        key = (
            self.account,
            self.region,
            self.service,
            operation,
            json.dumps(params, sort_keys=True, default=str),
        )
        return self.io.requests.get(
            key,
            lambda: self._budgeted(operation, params),
            keep_error=lambda exc: not isinstance(exc, DeadlineExceeded),
        )

    def _budgeted(self, operation: str, params: dict[str, Any]) -> Any:
        """botocore's attempts; then, while throttled, jittered backoff within the call's time budget."""
        io = self.io
        critical = (self.service, operation) in CRITICAL_OPERATIONS
        budget = io.aws.critical_throttle_budget_seconds if critical else io.aws.throttle_budget_seconds
        started = time.monotonic()
        attempt = 0
        while True:
            if io.deadline.passed:
                raise DeadlineExceeded(operation)
            try:
                answer = self._call(operation, params)
            except botocore.exceptions.BotoCoreError as exc:  # timeouts, resets: say which call it was
                exc.operation_name = operation
                raise
            except botocore.exceptions.ClientError as exc:
                if not is_throttling(exc):
                    raise
                attempt += 1
                cap = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
                pause = random.uniform(cap / 2, cap)  # noqa: S311 - jitter, not a secret
                if time.monotonic() - started + pause > budget or pause >= io.deadline.remaining():
                    raise
                time.sleep(pause)
                continue
            member = ALWAYS_RETURNED.get((self.service, operation))
            if member is not None and member not in answer:
                raise BrokenAnswer(
                    operation,
                    f"{self.service}:{operation} answered without {member!r}: the answer was cut short",
                )
            return answer


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
                    self.io.instrument(found, self.account_id, region)
                self._clients[key] = found
            return found


def limit_pages(client: Any, max_pages: int) -> None:
    """The page ceiling :func:`pages` applies to this client's lists (``aws.max_pages``)."""
    client._eksmon_max_pages = max_pages


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """The items under ``key`` of every page of a paginated operation, at most ``aws.max_pages`` pages.

    A next token that comes back unchanged, or more pages than the ceiling, raises :class:`EndlessPages`
    (a collection error for the source that listed), instead of paging forever.
    """
    limit: int = getattr(client, "_eksmon_max_pages", 0) or AwsSettings().max_pages
    name = client.meta.method_to_api_mapping.get(operation, operation)
    count = 0
    try:
        for page in _paginator(client, operation).paginate(**kwargs):
            count += 1
            if count > limit:
                raise EndlessPages(
                    name,
                    f"{name} returned more than {limit} pages (aws.max_pages): its next token never ends",
                )
            yield from page.get(key) or []
    except botocore.exceptions.PaginationError as exc:
        raise EndlessPages(name, f"{name}: {exc}") from None


def _paginator(client: Any, operation: str) -> Any:
    """The client's paginator for ``operation``, made once: botocore's ``get_paginator`` builds a new
    class on every call (a few thousand per fleet scan, each one work for the garbage collector), and a
    paginator keeps no state between ``paginate`` calls."""
    cache: dict[str, Any] | None = getattr(client, "_eksmon_paginators", None)
    if cache is None:
        cache = client._eksmon_paginators = {}
    found = cache.get(operation)
    if found is None:
        found = cache[operation] = client.get_paginator(operation)
    return found


SessionFactory = Callable[[], boto3.Session]


def error_code(exc: BaseException) -> str:
    """A short, credential-free name for what went wrong."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


def error_operation(exc: BaseException) -> str | None:
    """The AWS operation that failed (ClientErrors, and timeouts or resets of a scan's clients)."""
    if isinstance(exc, (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)):
        return getattr(exc, "operation_name", None)
    return None


def is_access_denied(exc: BaseException) -> bool:
    return error_code(exc) in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"}
