"""AWS access: one boto3 session per account, one client per service, account and region, every call counted.

AWS_PROFILE, AWS_REGION / AWS_DEFAULT_REGION and AWS_ENDPOINT_URL work as in any boto3 program;
the monitor has no endpoint flag of its own.

Fleet-scale I/O (:class:`ScanIO`, one per scan) changes nothing inside botocore: it registers handlers
on each client's documented events (``client.meta.events``) and hands collectors a :class:`ScanClient`,
a view of the client that answers repeated reads (docs/architecture.md, "The I/O layer", has the table):

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

import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterator
from typing import Any

import botocore.client
import botocore.exceptions
import botocore.loaders
import botocore.paginate
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
        parameter_validation=aws.validate_parameters,
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


# per-client state kept beside the client, not on it: the page ceiling, and the paginators of clients
# that are neither a ScanClient nor a botocore client (see _paginator)
_CLIENT_STATE_LOCK = threading.Lock()
_PAGE_LIMITS: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_PAGINATORS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def limit_pages(client: Any, max_pages: int) -> None:
    """The page ceiling :func:`pages` applies to this client's lists (``aws.max_pages``)."""
    with _CLIENT_STATE_LOCK:
        _PAGE_LIMITS[client] = max_pages


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """The items under ``key`` of every page of a paginated operation, at most ``aws.max_pages`` pages.

    A next token that comes back unchanged, or more pages than the ceiling, raises :class:`EndlessPages`
    (a collection error for the source that listed), instead of paging forever.
    """
    with _CLIENT_STATE_LOCK:
        limit = _PAGE_LIMITS.get(client) or AwsSettings().max_pages
    name = client.meta.method_to_api_mapping.get(operation, operation)
    tokens = _one_token(client, name, kwargs)
    source = (
        _token_pages(client, operation, name, tokens, kwargs)
        if tokens
        else _paginator(client, operation).paginate(**kwargs)
    )
    count = 0
    try:
        for page in source:
            count += 1
            if count > limit:
                raise EndlessPages(
                    name,
                    f"{name} returned more than {limit} pages (aws.max_pages): its next token never ends",
                )
            yield from page.get(key) or []
    except botocore.exceptions.PaginationError as exc:
        raise EndlessPages(name, f"{name}: {exc}") from None


# (input token, output token, limit key) of an operation paged by one plain next token, from botocore's
# paginator model; None for any other kind of paging (a flag like IsTruncated, several tokens)
_Tokens = tuple[str, str, str | None]
_ONE_TOKEN: dict[tuple[str, str, str], _Tokens | None] = {}


def _one_token(client: Any, name: str, kwargs: dict[str, Any]) -> _Tokens | None:
    """How to page ``name`` by hand, when its paging is one plain next token and the caller asks for
    nothing but a page size; None: botocore's paginator pages it."""
    model = getattr(getattr(client, "meta", None), "service_model", None)
    if model is None or set(kwargs.get("PaginationConfig") or {}) - {"PageSize"}:
        return None
    where = (model.service_name, model.api_version, name)
    if where not in _ONE_TOKEN:
        try:
            config = paginator_model(model.service_name, model.api_version).get_paginator(name)
        except (ValueError, botocore.exceptions.DataNotFoundError):
            config = {}  # not pageable: botocore's paginator says so
        given, returned = config.get("input_token"), config.get("output_token")
        simple = isinstance(given, str) and isinstance(returned, str) and returned.isidentifier()
        _ONE_TOKEN[where] = (
            (given, returned, config.get("limit_key")) if simple and "more_results" not in config else None
        )
    return _ONE_TOKEN[where]


def _token_pages(
    client: Any, operation: str, name: str, tokens: _Tokens, kwargs: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """The pages of a one-token operation, each read through the client's own method (for a scan, its
    memo). botocore's paginator does the same with about 60 microseconds more CPU per page (its context
    copy and expression searches: bench/README.md, "Fleet scale"), and most of a scan's reads are lists."""
    given, returned, limit_key = tokens
    params = {k: v for k, v in kwargs.items() if k != "PaginationConfig"}
    size = (kwargs.get("PaginationConfig") or {}).get("PageSize")
    if size is not None and limit_key:
        params[limit_key] = size
    method = getattr(client, operation)
    while True:
        page: dict[str, Any] = method(**params)
        yield page
        token = page.get(returned)
        if not token:
            return
        if token == params.get(given):
            raise EndlessPages(name, f"{name}: the same next token was received twice")
        params[given] = token


_MODELS_LOCK = threading.Lock()
_PAGINATOR_MODELS: dict[tuple[str, str], botocore.paginate.PaginatorModel] = {}
_LOADER: list[botocore.loaders.Loader] = []


def paginator_model(service: str, api_version: str) -> botocore.paginate.PaginatorModel:
    """botocore's paginator model of a service, read once per process from botocore's own data (its
    loader, without a session: no profile or configuration file is read for it)."""
    with _MODELS_LOCK:
        found = _PAGINATOR_MODELS.get((service, api_version))
        if found is None:
            if not _LOADER:
                _LOADER.append(botocore.loaders.create_loader())
            config = _LOADER[0].load_service_model(service, "paginators-1", api_version)
            found = _PAGINATOR_MODELS[(service, api_version)] = botocore.paginate.PaginatorModel(config)
        return found


def _paginator(client: Any, operation: str) -> Any:
    """The client's paginator for ``operation``, made once: botocore's ``get_paginator`` builds a new
    class on every call (a few thousand per fleet scan, each one work for the garbage collector), and a
    paginator keeps no state between ``paginate`` calls. A scan's :class:`ScanClient` keeps its own; a
    bare botocore client (one list per run) makes a new one, since its paginator holds the client and
    would keep it, and its connections, alive in a map beside it."""
    own = getattr(type(client), "paginator", None)  # a scan's ScanClient (eksmon.aws_io) keeps its own
    if callable(own):
        return client.paginator(operation)
    if isinstance(client, botocore.client.BaseClient):
        return client.get_paginator(operation)
    with _CLIENT_STATE_LOCK:
        cache = _PAGINATORS.get(client)
        if cache is None:
            cache = _PAGINATORS[client] = {}
        found = cache.get(operation)
    if found is None:
        found = client.get_paginator(operation)
        with _CLIENT_STATE_LOCK:
            found = cache.setdefault(operation, found)
    return found


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
