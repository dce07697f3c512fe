"""A moto server on 127.0.0.1 (port 0, in-process) with extensions in front of it.

Each module of ``eksmon.sim`` that defines ``install(sim)`` adds an :class:`Extension`: it may
answer a request moto does not implement, rewrite moto's answer (e.g. add ``upgradePolicy`` to
DescribeCluster), and seed the demo fleet. Faults (AccessDenied, throttling) are injected per
service, region and operation, so tests see real botocore retries and errors; besides error
answers, a fault may hang a request, cut its answer short, or make a list's next token endless.
``latency`` delays every AWS answer (a realistic round trip for the fleet-scale bench).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import pkgutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs

import boto3
from waitress.channel import ClientDisconnected
from waitress.server import create_server
from werkzeug.test import run_wsgi_app
from werkzeug.wrappers import Request, Response

ACCESS_KEY = "AKIAEKSMONSIMULATOR0"  # moto maps unknown keys to its default account
SECRET_KEY = "simulator-secret-not-a-real-key"


@dataclass
class SimRequest:
    """One AWS request as the simulator sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    service: str
    region: str
    account: str

    @property
    def operation(self) -> str:
        """X-Amz-Target's operation, the query Action, or 'METHOD /path' for REST APIs."""
        target = self.headers.get("x-amz-target")
        if target:
            return target.rsplit(".", 1)[-1]
        action = self.query.get("Action") or self.form().get("Action")
        if action:
            return action[0]
        return f"{self.method} {self.path}"

    def form(self) -> dict[str, list[str]]:
        if "x-www-form-urlencoded" in self.headers.get("content-type", ""):
            return parse_qs(self.body.decode(), keep_blank_values=True)
        return {}

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


class Extension:
    """Base class: override what the extension adds. Every hook may return None to pass."""

    service: str = ""

    def handle(self, req: SimRequest) -> Response | None:
        return None

    def after(self, req: SimRequest, status: int, body: bytes) -> bytes | None:
        """Rewrite moto's successful answer; None keeps it."""
        return None

    def reset(self) -> None:
        """Forget all state (between tests)."""

    def seed_demo(self, sim: Simulator) -> None:
        """Add this extension's part of the demo fleet (after the EKS clusters exist)."""

    def stop(self) -> None:
        """Release what the extension started (e.g. the Kubernetes API stand-in's server)."""

    seed_order: int = 50


FaultKind = Literal["error", "hang", "truncate", "endless_token", "drop"]


@dataclass
class Fault:
    """``kind``: ``error`` answers ``code``/``status``; ``hang`` holds the request ``delay`` seconds (or
    until the simulator is reset) before answering; ``truncate`` answers 200 with the first half of
    the real body; ``endless_token`` adds a fresh next token to every page of a list; ``drop`` closes
    the connection without an answer (the client sees the connection reset, as when a load balancer
    drops it).
    ``probability`` answers that share of matching requests (``seed`` makes it repeatable);
    ``until`` (seconds after the fault is made) ends it."""

    service: str
    operation: str | None = None  # None: every operation of the service
    region: str | None = None
    account: str | None = None
    code: str = "AccessDeniedException"
    status: int = 403
    times: int | None = None  # None: forever
    message: str = "injected by the simulator"
    hits: int = 0
    kind: FaultKind = "error"
    delay: float = 3600.0
    probability: float = 1.0
    until: float | None = None
    seed: int = 12
    created: float = 0.0

    def __post_init__(self) -> None:
        import random

        self.created = time.monotonic()
        self._random = random.Random(self.seed)  # noqa: S311 - a repeatable fault pattern, not a secret

    def matches(self, req: SimRequest) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.until is not None and time.monotonic() - self.created > self.until:
            return False
        return (
            req.service == self.service
            and (
                self.operation is None
                or self.operation == req.operation
                or req.operation.endswith(self.operation)
            )
            and (self.region is None or self.region == req.region)
            and (self.account is None or self.account == req.account)
            and (self.probability >= 1.0 or self._random.random() < self.probability)
        )


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, default=str), status=status, content_type="application/json")


def error_response(req: SimRequest, code: str, message: str, status: int = 400) -> Response:
    """An error in the wire format of the request's protocol, as botocore parses it."""
    request_id = str(uuid.uuid4())
    if req.service == "ec2":
        xml = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return Response(xml, status=status, content_type="text/xml")
    if (
        "x-amz-target" in req.headers
        or req.headers.get("content-type", "").startswith("application/x-amz-json")
        or (
            "x-www-form-urlencoded" not in req.headers.get("content-type", "") and not req.query.get("Action")
        )
    ):
        resp = Response(json.dumps({"__type": code, "message": message}), status=status)
        resp.headers["x-amzn-ErrorType"] = code
        resp.headers["Content-Type"] = "application/x-amz-json-1.1"
        resp.headers["x-amzn-RequestId"] = request_id
        return resp
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(xml, status=status, content_type="text/xml")


class Simulator:
    """The simulated AWS endpoint. Use as a context manager or call start()/stop()."""

    def __init__(self, threads: int = 64) -> None:
        """``threads``: requests answered at the same time (a hung or delayed answer holds one)."""
        from moto.moto_server.werkzeug_app import create_backend_app

        self.threads = threads
        self._moto = _dispatcher()(create_backend_app)
        self.extensions: list[Extension] = []
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, str]] = []  # (service, region, operation) seen
        # every distinct request (account, region, service, operation, path, query, body): how often sent
        self.signatures: Counter[tuple[str, ...]] = Counter()
        self.latency = 0.0  # seconds added to every AWS answer
        self.in_flight = 0
        self.peak_in_flight = 0
        self._in_flight_by: Counter[tuple[str, str]] = Counter()  # (account, region) -> requests now
        self.peak_in_flight_by: Counter[tuple[str, str]] = Counter()
        self._release = threading.Event()  # set on reset/stop: hung requests answer
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        for info in pkgutil.iter_modules(_package_path(), "eksmon.sim."):
            module = importlib.import_module(info.name)
            install: Callable[[Simulator], None] | None = getattr(module, "install", None)
            if install is not None:
                install(self)
        self.extensions.sort(key=lambda e: e.seed_order)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Simulator:
        # waitress, not werkzeug's development server: that one closes the connection after every
        # answer, so each AWS call paid for a new TCP connection (and a new server thread), which
        # AWS's endpoints do not make a client do.
        self._server = create_server(
            self,
            host="127.0.0.1",
            port=0,
            threads=self.threads,
            connection_limit=1000,
            channel_timeout=600,
            ident="eksmon-sim",
            asyncore_use_poll=True,  # no select() limit of 1,024 descriptors
        )
        self._thread = threading.Thread(target=self._server.run, name="eksmon-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        server, self._server = self._server, None
        if server is not None:  # close every channel: the loop ends when none is left
            while server._map:
                for channel in list(server._map.values()):
                    channel.close()
            server.task_dispatcher.shutdown(timeout=5)
            if self._thread is not None:
                self._thread.join(timeout=5)
        for ext in self.extensions:  # servers the extensions started stop with the simulator
            ext.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return f"http://127.0.0.1:{self._server.effective_port}"

    def reset(self) -> None:
        """Empty every backend: moto's and each extension's."""
        self._moto_reset()
        for ext in self.extensions:
            ext.reset()
        with self._lock:
            self.faults.clear()
            self.requests.clear()
            self.signatures.clear()
            self.latency = 0.0
            self.in_flight = self.peak_in_flight = 0
            self._in_flight_by.clear()
            self.peak_in_flight_by.clear()
            self._release.set()
            self._release = threading.Event()

    def _moto_reset(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()

    # -- client side helpers -----------------------------------------------------------------------
    def environ(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment variables that point any boto3 program at the simulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def patched_environ(self, region: str = "us-east-1") -> AbstractContextManager[None]:
        """The process environment pointed at the simulator (no profile, no session token) for a while."""
        return temporary_environ({**self.environ(region), "AWS_PROFILE": None, "AWS_SESSION_TOKEN": None})

    def session(self, region: str = "us-east-1", **credentials: Any) -> boto3.Session:
        """A boto3 session whose clients all reach the simulator (as AWS_ENDPOINT_URL would do)."""
        return _EndpointSession(self.endpoint_url, region_name=region, **credentials)

    def session_factory(self, region: str = "us-east-1") -> Callable[..., boto3.Session]:
        """What the engine calls for the base session and for each assumed-role session."""

        def make(**kwargs: Any) -> boto3.Session:
            kwargs.setdefault("region_name", region)
            return _EndpointSession(self.endpoint_url, **kwargs)

        return make

    def fault(self, service: str, **kwargs: Any) -> Fault:
        f = Fault(service=service, **kwargs)
        with self._lock:
            self.faults.append(f)
        return f

    def extension(self, kind: type[Any]) -> Any:
        for ext in self.extensions:
            if isinstance(ext, kind):
                return ext
        raise LookupError(kind.__name__)

    def seed_demo(self) -> None:
        """Create the demo fleet (eksmon.sim.fleet) in every extension, in seed order."""
        for ext in self.extensions:
            ext.seed_demo(self)

    def calls(self, service: str | None = None) -> list[tuple[str, str, str]]:
        with self._lock:
            return [c for c in self.requests if service is None or c[0] == service]

    def repeats(self) -> dict[tuple[str, ...], int]:
        """Requests sent more than once, identical to the byte (retries of a refused answer included)."""
        with self._lock:
            return {sig: n for sig, n in self.signatures.items() if n > 1}

    # -- WSGI --------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        body = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        req = _sim_request(request, body)
        if req is None:  # moto's own API (/moto-api) and anything unsigned
            return self._moto(environ, start_response)
        signature = (
            req.account,
            req.region,
            req.service,
            req.operation,
            req.path,
            json.dumps(req.query, sort_keys=True),
            body.decode("utf-8", "replace"),
        )
        with self._lock:
            self.requests.append((req.service, req.region, req.operation))
            self.signatures[signature] += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            scope = (req.account, req.region)
            self._in_flight_by[scope] += 1
            self.peak_in_flight_by[scope] = max(self.peak_in_flight_by[scope], self._in_flight_by[scope])
            fault = next((f for f in self.faults if f.matches(req)), None)
            if fault is not None:
                fault.hits += 1
            release = self._release
        try:
            if self.latency:
                time.sleep(self.latency)
            if fault is not None and fault.kind == "hang":
                release.wait(fault.delay)
            if fault is not None and fault.kind == "drop":
                # waitress closes the connection without writing a response when the application
                # raises its ClientDisconnected
                raise ClientDisconnected("dropped by the simulator")
            if fault is not None and fault.kind == "error":
                return error_response(req, fault.code, fault.message, fault.status)(environ, start_response)
            if fault is not None and fault.kind == "endless_token":
                req = _first_page(req, environ)  # each of our made-up tokens asks for the first page again
            response = self._answer(req, environ)
            if fault is not None and response.status_code == 200:
                _spoil(response, fault.kind)
            return response(environ, start_response)
        finally:
            with self._lock:
                self.in_flight -= 1
                self._in_flight_by[scope] -= 1

    def _answer(self, req: SimRequest, environ: dict[str, Any]) -> Response:
        for ext in self.extensions:
            if ext.service == req.service:
                answer = ext.handle(req)
                if answer is not None:
                    return answer
        app_iter, status, headers = run_wsgi_app(self._moto, environ, buffered=True)
        data = b"".join(app_iter)
        code = int(status.split()[0])
        if code < 300:
            for ext in self.extensions:
                if ext.service == req.service:
                    changed = ext.after(req, code, data)
                    if changed is not None:
                        data = changed
        return Response(
            data, status=status, headers=[(k, v) for k, v in headers if k.lower() != "content-length"]
        )


def _first_page(req: SimRequest, environ: dict[str, Any]) -> SimRequest:
    """The request without its next token (in the query string or the JSON body)."""
    from dataclasses import replace
    from urllib.parse import urlencode

    query = {k: v for k, v in req.query.items() if k.lower() != "nexttoken"}
    environ["QUERY_STRING"] = urlencode(query, doseq=True)
    body = req.body
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        body = json.dumps({k: v for k, v in doc.items() if k.lower() != "nexttoken"}).encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
    return replace(req, query=query, body=body)


def _spoil(response: Response, kind: FaultKind) -> None:
    """Turn a good answer into a broken one, in place."""
    data = response.get_data()
    if kind == "truncate":
        response.set_data(data[: len(data) // 2])
    elif kind == "endless_token":
        try:
            doc = json.loads(data)
        except ValueError:
            return
        if isinstance(doc, dict):
            key = "NextToken" if "NextToken" in doc or any(k[:1].isupper() for k in doc) else "nextToken"
            doc[key] = uuid.uuid4().hex
            response.set_data(json.dumps(doc, default=str))


@contextmanager
def temporary_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables, and put everything back afterwards."""
    keep = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in keep.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _dispatcher() -> type:
    """moto's dispatcher, remembering which backend serves a host: moto lists its package directory (a
    few hundred stat calls) on every request to find it, most of the simulator's time at fleet scale."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    class Dispatcher(DomainDispatcherApplication):
        _backends: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backends:
                self._backends[host] = super().get_backend_for_host(host)
            return self._backends[host]

    return Dispatcher


def _package_path() -> list[str]:
    import eksmon.sim

    return list(eksmon.sim.__path__)


def _sim_request(request: Request, body: bytes) -> SimRequest | None:
    auth = request.headers.get("Authorization", "")
    if "Credential=" not in auth:
        return None
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        key, _date, region, service, _ = scope.split("/")
    except ValueError:
        return None
    from moto.iam.models import get_account_id_from

    account = get_account_id_from(key)  # moto's default account for keys it never issued
    return SimRequest(
        method=request.method,
        path=request.path,
        query={k: request.args.getlist(k) for k in request.args},
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        service=service,
        region=region,
        account=account,
    )


class _EndpointSession(boto3.Session):  # type: ignore[misc]
    """A boto3 session that sends every client to one endpoint with the simulator's credentials."""

    def __init__(self, endpoint: str, **kwargs: Any) -> None:
        if "aws_access_key_id" not in kwargs:
            kwargs.update(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        super().__init__(**kwargs)
        self._endpoint = endpoint

    def client(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", self._endpoint)
        return super().client(*args, **kwargs)
