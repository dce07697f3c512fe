"""AWS access: one boto3 session per account, clients with bounded retries, every API call counted.

AWS_PROFILE, AWS_REGION / AWS_DEFAULT_REGION and AWS_ENDPOINT_URL work as in any boto3 program;
the monitor has no endpoint flag of its own.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from eksmon.settings import AwsSettings


class ApiCallCounter:
    """Counts API calls (``eks.DescribeCluster``) and HTTP attempts, retries included."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.attempts = 0

    def _on_call(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        with self._lock:
            self.calls[name] += 1

    def _on_send(self, **_: Any) -> None:
        with self._lock:
            self.attempts += 1

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call", self._on_call)
        client.meta.events.register("before-send", self._on_send)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def client_config(aws: AwsSettings, pool: int = 10) -> Config:
    return Config(
        retries={"mode": aws.retry_mode, "max_attempts": aws.max_attempts},
        connect_timeout=aws.connect_timeout,
        read_timeout=aws.read_timeout,
        max_pool_connections=pool,
        user_agent_appid="eksmon",
    )


@dataclass
class AwsAccount:
    """Credentials for one account; hands out one shared client per (service, region)."""

    account_id: str
    session: boto3.Session
    config: Config
    counter: ApiCallCounter
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:  # boto3 sessions are not thread-safe; clients are
            found = self._clients.get(key)
            if found is None:
                found = self.session.client(service, region_name=region, config=self.config)
                self.counter.attach(found)
                self._clients[key] = found
            return found


SessionFactory = Callable[[], boto3.Session]


def error_code(exc: BaseException) -> str:
    """A short, credential-free name for what went wrong."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


def error_operation(exc: BaseException) -> str | None:
    if isinstance(exc, botocore.exceptions.ClientError):
        return getattr(exc, "operation_name", None)
    return None


def is_access_denied(exc: BaseException) -> bool:
    return error_code(exc) in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"}


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item under ``key`` of every page of a paginated ``operation`` (a missing or null key: none)."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key) or []
