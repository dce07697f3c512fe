"""``eksmon demo``: the deployed code path, end to end, against the simulated fleet on loopback.

It starts the simulator, creates the findings table and the alert topic with a queue subscribed to it
(standing in for the e-mail inbox) and a loopback HTTP endpoint (standing in for AWS Chatbot), invokes
each scheduled Lambda handler in-process exactly as Lambda would, passes what Chatbot would get to the
Slack forwarder Lambda (its webhook URL in the simulated Secrets Manager, pointing at a loopback
"Slack"), prints every message in its e-mail and Slack forms, runs the handlers a second time to show
that nothing unchanged is sent again, and prints the fleet report in the chosen format (and always writes
it as HTML). In the table format everything goes to stdout; in json, markdown and html the narrative goes to
stderr, so stdout holds the document alone (``eksmon demo --format html > report.html``).
No AWS account, no network.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from eksmon.engine import scan
from eksmon.environment import ENV_CONFIG, ENV_FINDINGS_TABLE, ENV_SLACK_WEBHOOK_SECRET_ARN, ENV_TOPIC_ARN
from eksmon.observability import NAMESPACE
from eksmon.publish.output import render
from eksmon.registry import MONITORS, load
from eksmon.settings import Settings
from eksmon.state import create_table

REPORT_FILE = "eksmon-report.html"
FINDINGS_TABLE = "eksmon-findings"


@dataclass
class LambdaContextStandIn:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:eksmon"
    aws_request_id: str = "demo-request"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def available_monitors() -> list[str]:
    """Monitors with checks and a handler module (each landed monitor adds itself)."""
    registry = load()
    return [
        m
        for m in MONITORS
        if registry.select(monitor=m) and importlib.util.find_spec(f"eksmon.handlers.{m}") is not None
    ]


# The `sim` extra (pyproject.toml): a plain `pip install eksmon` / `pipx install .` has none of them.
SIMULATOR_MODULES = ("moto", "waitress", "cryptography")
SIMULATOR_INSTALL = (
    "pip install 'eksmon[sim]' (from a clone: pip install '.[sim]', "
    "pipx install '.[sim]' --force, or make demo)"
)


def missing_simulator_modules() -> list[str]:
    """The simulator's modules that cannot be imported here (the optional `sim` extra)."""
    missing = []
    for name in SIMULATOR_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def run_demo(
    fmt: str = "table", out: TextIO | None = None, err: TextIO | None = None, now: datetime | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    missing = missing_simulator_modules()
    if missing:
        print(
            f"eksmon: the demo needs the simulator, which is not installed ({', '.join(missing)} missing): "
            f"{SIMULATOR_INSTALL}",
            file=err,
        )
        return 3
    from eksmon.sim.fleet import DEMO_NOW, DEMO_REGIONS
    from eksmon.sim.server import Simulator, temporary_environ

    now = now or DEMO_NOW
    started = time.monotonic()
    narrative = out if fmt == "table" else err

    def say(text: str = "") -> None:
        print(text, file=narrative)

    with Simulator() as sim:
        sim.seed_demo()
        session = sim.session(DEMO_REGIONS[0])
        topic_arn, queue_url = _inbox(session)
        chat = _ChatStandIn()
        settings = Settings(regions=list(DEMO_REGIONS))
        env = {**_alerting(session, topic_arn, chat), **sim.environ(DEMO_REGIONS[0])}
        env[ENV_CONFIG] = settings.to_json()
        say(
            f"eksmon demo: simulated account 123456789012, regions {', '.join(DEMO_REGIONS)}, "
            f"as of {now:%Y-%m-%d %H:%M} UTC (simulator at {sim.endpoint_url})"
        )
        say()
        with temporary_environ({**env, "AWS_PROFILE": None, "AWS_SESSION_TOKEN": None}), chat:
            from eksmon.observability import logger

            logger.setLevel("WARNING")
            for monitor in available_monitors():
                summary, emf = _invoke(monitor, now)
                say(
                    f"Lambda eksmon-{monitor}: {summary['findings']} findings in {summary['clusters']} clusters, "
                    f"{summary['messages_published']} SNS messages, {emf} EMF metric records, "
                    f"{summary['api_calls']} AWS API calls, {summary['duration_seconds']:.1f} s"
                )
            messages = _read_inbox(session, queue_url)
            say()
            say(
                f"Published to {topic_arn}: {len(messages)} messages, each in its e-mail form (what an e-mail "
                "subscriber receives) and its Slack form (the AWS Chatbot custom notification, as the Slack "
                "forwarder Lambda posted it to the webhook):"
            )
            _show(say, messages, _forward_to_slack(chat))
            again = sum(_invoke(monitor, now)[0]["messages_published"] for monitor in available_monitors())
            repeated = _read_inbox(session, queue_url)
            say(
                f"Second run of every Lambda: {again} SNS messages ({len(repeated)} received): nothing changed, "
                "so nothing is sent again (findings state in DynamoDB table "
                f"{FINDINGS_TABLE}, keyed by fingerprint)."
            )
            say()
            result = scan(settings, now, session_factory=sim.session_factory(DEMO_REGIONS[0]))
        # The picture of the fleet is always written; stdout gets the report in the chosen format too.
        page = render(result, "html", now)
        with open(REPORT_FILE, "w", encoding="utf-8") as fh:
            fh.write(page)
        say("Fleet report (`eksmon scan` output):")
        say()
        print(page if fmt == "html" else render(result, fmt, now), file=out)
        say()
        say(
            f"Fleet report with pictures (support timelines, etcd against each limit, control-plane capacity, quotas): {os.path.abspath(REPORT_FILE)}"
        )
    say()
    say(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0


def _invoke(monitor: str, now: datetime) -> tuple[dict[str, Any], int]:
    module = importlib.import_module(f"eksmon.handlers.{monitor}")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        summary = module.handler({"now": now.isoformat()}, LambdaContextStandIn(f"eksmon-{monitor}"))
    emf = sum(1 for line in buffer.getvalue().splitlines() if '"_aws"' in line)
    return summary, emf


def _inbox(session: Any) -> tuple[str, str]:
    """The alert topic, with a queue subscribed to it as the stand-in for an e-mail inbox."""
    sns = session.client("sns")
    sqs = session.client("sqs")
    topic_arn = sns.create_topic(Name="eksmon-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="eksmon-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def _alerting(session: Any, topic_arn: str, chat: _ChatStandIn) -> dict[str, str]:
    """The findings table, the Chatbot stand-in's subscription and the webhook secret; their environment."""
    create_table(session.client("dynamodb"), FINDINGS_TABLE)
    session.client("sns").subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=chat.url("/chatbot"))
    secret_arn = session.client("secretsmanager").create_secret(
        Name="eksmon/slack-webhook", SecretString=chat.url("/slack-webhook")
    )["ARN"]
    return {
        ENV_TOPIC_ARN: topic_arn,
        ENV_FINDINGS_TABLE: FINDINGS_TABLE,
        ENV_SLACK_WEBHOOK_SECRET_ARN: secret_arn,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
        **chat.environ(),
    }


def _show(say: Any, messages: list[dict[str, Any]], slack: dict[str, dict[str, Any]]) -> None:
    for m in messages:
        say("=" * 100)
        say(f"Subject: {m['Subject']}")
        attrs = {k: v["Value"] for k, v in sorted(m.get("MessageAttributes", {}).items())}
        say(f"Attributes: {json.dumps(attrs)}")
        say()
        say(m["Message"])
        say()
        say("-- Slack " + "-" * 91)
        say(_slack_text(slack.get(m["MessageId"])))
    say("=" * 100)
    say()


class _ChatStandIn:
    """Loopback: ``/chatbot`` (HTTP) receives what SNS sends AWS Chatbot; ``/slack-webhook`` is "Slack".

    "Slack" is served over HTTPS with a certificate of the simulator's own CA, which the forwarder
    trusts the way a user trusts a private CA: ``SSL_CERT_FILE`` (see :meth:`environ`). The
    product's poster takes https:// webhooks only.
    """

    def __init__(self) -> None:
        from eksmon.sim.tls import CertificateAuthority

        self.sns: list[dict[str, Any]] = []
        self.slack: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                (outer.sns if self.path == "/chatbot" else outer.slack).append(body)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                """Quiet: the demo's output is the product's."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ca = CertificateAuthority("eksmon demo Slack")
        self._slack = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._slack.socket = ca.server_context().wrap_socket(self._slack.socket, server_side=True)
        self._folder = tempfile.TemporaryDirectory(prefix="eksmon-demo-")
        self.ca_file = os.path.join(self._folder.name, "ca.pem")
        with open(self.ca_file, "wb") as out:
            out.write(ca.pem)

    def url(self, path: str) -> str:
        if path == "/slack-webhook":
            return f"https://127.0.0.1:{self._slack.server_port}{path}"
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def environ(self) -> dict[str, str]:
        """OpenSSL's own variable: the CA bundle to trust instead of the system's (here: "Slack"'s CA)."""
        return {"SSL_CERT_FILE": self.ca_file}

    def __enter__(self) -> _ChatStandIn:
        for server, name in ((self._server, "eksmon-demo-chat"), (self._slack, "eksmon-demo-slack")):
            threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self._server, self._slack):
            server.shutdown()
            server.server_close()
        self._folder.cleanup()


def _forward_to_slack(chat: _ChatStandIn) -> dict[str, dict[str, Any]]:
    """Each message Chatbot would get, through the Slack forwarder Lambda; SNS message id -> Slack payload."""
    from eksmon.handlers.slack_forwarder import handler

    out: dict[str, dict[str, Any]] = {}
    for envelope in chat.sns:
        record = {"Sns": {k: envelope.get(k) for k in ("Message", "Subject", "MessageId")}}
        before = len(chat.slack)
        context: Any = LambdaContextStandIn("eksmon-slack-forwarder")  # what Powertools reads of one
        handler({"Records": [record]}, context)
        if len(chat.slack) > before:
            out[envelope["MessageId"]] = chat.slack[-1]
    chat.sns.clear()
    return out


def _slack_text(payload: dict[str, Any] | None) -> str:
    """A Slack Block Kit message as plain lines (header, sections, context)."""
    if payload is None:
        return "(not received)"
    lines = []
    for block in payload.get("blocks", []):
        if block["type"] in ("header", "section"):
            lines.append(block["text"]["text"])
        elif block["type"] == "context":
            lines += [e["text"] for e in block["elements"]]
    return "\n".join(lines)


def _read_inbox(session: Any, queue_url: str) -> list[dict[str, Any]]:
    sqs = session.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not batch:
            return found
        for m in batch:
            found.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
