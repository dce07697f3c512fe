"""``eksmon demo``: the deployed code path, end to end, against the simulated fleet on loopback.

It starts the simulator, creates the findings table and the alert topic with a queue subscribed to it
(standing in for the e-mail inbox) and a loopback HTTP endpoint (standing in for AWS Chatbot), invokes
each scheduled Lambda handler in-process exactly as Lambda would, passes what Chatbot would get to the
Slack forwarder Lambda (its webhook URL in the simulated Secrets Manager, pointing at a loopback
"Slack"), runs the handlers a second time to show that nothing unchanged is sent again, and scans the
fleet. It prints the fleet's findings first (in the chosen format), then one line per Lambda run and per
message; each message in full (e-mail and Slack) with ``--show-alerts``; the HTML report only where
``--html`` says. In the table format everything goes to stdout; in json, markdown and html the narrative
goes to stderr, so stdout holds the document alone (``eksmon demo --format html > report.html``).
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
import textwrap
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from eksmon.engine import scan
from eksmon.environment import ENV_CONFIG, ENV_FINDINGS_TABLE, ENV_SLACK_WEBHOOK_SECRET_ARN, ENV_TOPIC_ARN
from eksmon.observability import NAMESPACE
from eksmon.parts.scan import ScanResult
from eksmon.publish.output import render, write_report
from eksmon.registry import MONITORS, load
from eksmon.settings import Settings
from eksmon.state import create_table

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
    fmt: str = "table",
    out: TextIO | None = None,
    err: TextIO | None = None,
    now: datetime | None = None,
    show_alerts: bool = False,
    html: str | None = None,
    output: str | None = None,
    color: bool = False,
    width: int = 100,
    command: str = "eksmon demo",
) -> int:
    """Run the cycle, then say it in the order a person wants it: the fleet's findings first, then what
    the deployed monitor did (one line per Lambda, one per message), the messages in full only with
    ``show_alerts``, the HTML report only where ``html`` says."""
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

    now = now or DEMO_NOW
    started = time.monotonic()
    # the table is for reading, so the story goes with it; any other format is a document alone on stdout
    narrative = out if fmt == "table" and output is None else err

    def say(text: str = "") -> None:
        # the story fits the terminal like the table does; continuation lines indented under their start.
        # A number keeps its unit ("97.1 %"): textwrap breaks only at ASCII blanks, so a no-break space holds.
        indent = " " * (len(text) - len(text.lstrip(" ")) + 2)
        held = text.replace(" %", "\u00a0%")
        wrapped = textwrap.fill(
            held, width, subsequent_indent=indent, break_on_hyphens=False, break_long_words=False
        )
        print(wrapped.replace("\u00a0", " ") if text else "", file=narrative)

    def raw(text: str = "") -> None:
        print(text, file=narrative)

    cycle = _run_cycle(now)
    say(
        f"eksmon demo: simulated account 123456789012, regions {', '.join(DEMO_REGIONS)}, "
        f"as of {now:%Y-%m-%d %H:%M} UTC (simulator at {cycle.endpoint})"
    )
    say()
    say("The fleet's findings (what `eksmon scan` prints):")
    say()
    document = render(cycle.result, fmt, now, width=width, color=color, command=command)
    write_report(document, output, out, err, fmt)
    say()
    say("What the deployed monitor did (each scheduled Lambda, run in-process as Lambda runs it):")
    for line in cycle.runs:
        say(line)
    say(
        f"  Alert topic {cycle.topic_arn}: {len(cycle.messages)} messages, each to e-mail and, through the "
        "Slack forwarder Lambda, to Slack:"
    )
    for m in cycle.messages:
        say(f"    {m['Subject']}")
    say(
        f"  Second run of every Lambda: {cycle.again} SNS messages ({cycle.repeated} received): nothing changed, so "
        f"nothing is sent again (findings state in DynamoDB table {FINDINGS_TABLE}, keyed by fingerprint)."
    )
    if show_alerts:
        say()
        say("Every message as received: its e-mail form, then its Slack form (the Block Kit message):")
        _show(raw, cycle.messages, cycle.slack, width)
    else:
        say("  `eksmon demo --show-alerts` prints each message as e-mail and as Slack.")
    if html:
        page = render(cycle.result, "html", now, command=command)
        with open(html, "w", encoding="utf-8") as fh:
            fh.write(page)
        say(
            "Fleet report with pictures (support timelines, etcd against each limit, control-plane "
            f"capacity, quotas): {os.path.abspath(html)}"
        )
    else:
        say("  `eksmon demo --html report.html` writes the fleet report with pictures for a browser.")
    say()
    say(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0


@dataclass
class _Cycle:
    """What one demo run saw: each Lambda's summary line, the messages, the second run, the fleet scan."""

    runs: list[str]
    topic_arn: str
    messages: list[dict[str, Any]]
    slack: dict[str, dict[str, Any]]
    again: int
    repeated: int
    result: ScanResult
    endpoint: str


def _run_cycle(now: datetime) -> _Cycle:
    from eksmon.sim.fleet import DEMO_REGIONS
    from eksmon.sim.server import Simulator, temporary_environ

    runs: list[str] = []
    with Simulator() as sim:
        sim.seed_demo()
        session = sim.session(DEMO_REGIONS[0])
        topic_arn, queue_url = _inbox(session)
        chat = _ChatStandIn()
        settings = Settings(regions=list(DEMO_REGIONS))
        env = {**_alerting(session, topic_arn, chat), **sim.environ(DEMO_REGIONS[0])}
        env[ENV_CONFIG] = settings.to_json()
        with temporary_environ({**env, "AWS_PROFILE": None, "AWS_SESSION_TOKEN": None}), chat:
            from eksmon.observability import logger

            logger.setLevel("WARNING")
            for monitor in available_monitors():
                summary, emf = _invoke(monitor, now)
                runs.append(
                    f"  Lambda eksmon-{monitor}: {summary['findings']} findings in {summary['clusters']} "
                    f"clusters, {summary['messages_published']} SNS messages, {emf} EMF metric records, "
                    f"{summary['api_calls']} AWS API calls, {summary['duration_seconds']:.1f} s"
                )
            messages = _read_inbox(session, queue_url)
            slack = _forward_to_slack(chat)
            again = sum(_invoke(monitor, now)[0]["messages_published"] for monitor in available_monitors())
            repeated = _read_inbox(session, queue_url)
            result = scan(settings, now, session_factory=sim.session_factory(DEMO_REGIONS[0]))
        endpoint = sim.endpoint_url
    return _Cycle(runs, topic_arn, messages, slack, again, len(repeated), result, endpoint)


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


def _show(say: Any, messages: list[dict[str, Any]], slack: dict[str, dict[str, Any]], width: int) -> None:
    """Each message as its reader gets it (lines as sent, not re-wrapped), between rules ``width`` wide."""
    for m in messages:
        say("=" * width)
        say(f"Subject: {m['Subject']}")
        attrs = {k: v["Value"] for k, v in sorted(m.get("MessageAttributes", {}).items())}
        say(f"Attributes: {json.dumps(attrs)}")
        say()
        say(m["Message"])
        say()
        say("-- Slack " + "-" * max(0, width - 9))
        say(_slack_text(slack.get(m["MessageId"])))
    say("=" * width)
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
