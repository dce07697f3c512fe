"""The Slack forwarder: SNS message -> Slack blocks -> incoming webhook; the URL never leaks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from eksmon.models import Severity
from eksmon.publish.changes import Change, ChangeKind
from eksmon.publish.notify import build_messages
from eksmon.publish.slack import SlackError, parse_webhook, post, slack_payload
from eksmon.sim.tls import CertificateAuthority
from tests.unit.alerting_builders import finding


class FakeSlack:
    """An incoming webhook on loopback, over HTTPS with a CA of its own, that records what it gets and
    answers as told. The poster trusts the CA as a user trusts a private one: ``SSL_CERT_FILE``."""

    def __init__(self, folder: Path) -> None:
        self.received: list[dict[str, Any]] = []
        self.status, self.body = 200, b"ok"
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.received.append(json.loads(self.rfile.read(length)))
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: Any) -> None:
                pass

        ca = CertificateAuthority("fake Slack")
        self.ca_file = folder / "ca.pem"
        self.ca_file.write_bytes(ca.pem)
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = ca.server_context().wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_port}/services/T000/B000/not-a-real-secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def slack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    s = FakeSlack(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(s.ca_file))
    yield s
    s.server.shutdown()
    s.server.server_close()


def chatbot_body() -> str:
    (m,) = build_messages(
        [Change(ChangeKind.NEW, finding(severity=Severity.CRITICAL, message="etcd at 97 %"))]
    )
    return json.dumps(m.chatbot)


def test_a_chatbot_notification_becomes_slack_blocks() -> None:
    payload = slack_payload(chatbot_body())
    header, section, steps, context = payload["blocks"]
    assert header["type"] == "header" and header["text"]["text"].startswith(":red_circle: prod (us-east-1)")
    assert "etcd at 97 %" in section["text"]["text"]
    assert steps["text"]["text"] == "*Next steps*\n• fix r"
    assert "cluster `prod`" in context["elements"][0]["text"]
    assert payload["text"] == header["text"]["text"]  # the notification preview


def test_alarms_and_plain_text_are_forwarded_too() -> None:
    alarm = {
        "AlarmName": "eksmon-critical-findings",
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed",
        "AWSAccountId": "123456789012",
        "Region": "US East (N. Virginia)",
    }
    assert slack_payload(json.dumps(alarm))["text"] == ":rotating_light: ALARM: eksmon-critical-findings"
    plain = slack_payload("hello", subject="[eksmon] test")
    assert plain["text"] == "[eksmon] test" and plain["blocks"][1]["text"]["text"] == "hello"


def test_long_texts_fit_slack_block_limits() -> None:
    payload = slack_payload("x" * 10_000, subject="s" * 400)
    assert len(payload["blocks"][0]["text"]["text"]) <= 150
    assert len(payload["blocks"][1]["text"]["text"]) <= 3000


def test_a_webhook_whose_certificate_is_not_trusted_is_refused(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")  # the system's CAs only: the fake Slack's CA is not among them
    with pytest.raises(SlackError) as refused:
        post(slack.url, {"text": "hi"})
    assert slack.received == [] and "not-a-real-secret" not in str(refused.value)


def test_post_and_refusals_never_show_the_url(slack: FakeSlack) -> None:
    post(slack.url, {"text": "hi"})
    assert slack.received == [{"text": "hi"}]
    slack.status, slack.body = 400, b"invalid_payload"
    with pytest.raises(SlackError, match="answered 400: invalid_payload") as refused:
        post(slack.url, {"text": "hi"})
    assert "not-a-real-secret" not in str(refused.value)
    with pytest.raises(SlackError, match="unreachable") as unreachable:
        post("https://127.0.0.1:9/services/secret-path", {"text": "hi"})
    assert "secret-path" not in str(unreachable.value)


@pytest.mark.parametrize(
    ("secret", "ok"),
    [
        ("https://hooks.slack.com/services/T/B/x", True),
        ('{"url": "https://hooks.slack.com/services/T/B/x"}', True),
        ('{"webhook_url": "https://hooks.slack.com/services/T/B/x"}', True),
        ("http://hooks.slack.com/services/T/B/x", False),  # never plain http
        ("http://127.0.0.1:8080/services/T/B/x", False),  # not even to loopback: no test seam
        ("not a url", False),
        ("{not json", False),
    ],
)
def test_the_secret_must_hold_an_https_url(secret: str, ok: bool) -> None:
    if ok:
        assert parse_webhook(secret) == "https://hooks.slack.com/services/T/B/x"
    else:
        with pytest.raises(SlackError) as bad:
            parse_webhook(secret)
        assert "hooks.slack.com" not in str(bad.value)


def test_the_handler_reads_the_secret_once_and_never_logs_the_url(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from eksmon.demo import LambdaContextStandIn
    from eksmon.handlers import slack_forwarder

    with mock_aws():
        for k, v in {
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(k, v)
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        arn = sm.create_secret(Name="eksmon/slack", SecretString=slack.url)["ARN"]
        monkeypatch.setenv("SLACK_WEBHOOK_SECRET_ARN", arn)
        monkeypatch.setattr(slack_forwarder, "_webhook", None)
        reads = 0
        real = boto3.client

        def counting(service: str, *a: Any, **kw: Any) -> Any:
            nonlocal reads
            reads += service == "secretsmanager"
            return real(service, *a, **kw)

        monkeypatch.setattr(boto3, "client", counting)
        event = {"Records": [{"Sns": {"Message": chatbot_body(), "Subject": "s", "MessageId": "m-1"}}]}
        for _ in range(3):
            assert slack_forwarder.handler(event, LambdaContextStandIn("eksmon-slack"))["forwarded"] == 1  # type: ignore[arg-type]
    assert len(slack.received) == 3 and reads == 1
    out = capsys.readouterr()
    assert "not-a-real-secret" not in out.out + out.err and "127.0.0.1" not in out.out + out.err


def test_a_bad_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from eksmon.errors import ConfigError
    from eksmon.handlers.slack_forwarder import ForwarderEnvironment

    with pytest.raises(ConfigError, match="SLACK_WEBHOOK_SECRET_ARN"):
        ForwarderEnvironment.from_environ({"SLACK_WEBHOOK_SECRET_ARN": "https://hooks.slack.com/x"})
