"""`eksmon notify-test` and the Lambda's {"notify_test": true}: one sample finding, end to end."""

from __future__ import annotations

import io
import json

import pytest

from eksmon.cli import main
from eksmon.demo import LambdaContextStandIn, _inbox, _read_inbox
from eksmon.settings import Settings
from eksmon.sim.server import Simulator


@pytest.fixture
def topic(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    for k, v in sim.environ("us-east-1").items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("TOPIC_ARN", raising=False)
    return _inbox(sim.session("us-east-1"))


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["notify-test", *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_cli_sends_one_sample_finding(sim: Simulator, topic: tuple[str, str]) -> None:
    topic_arn, queue_url = topic
    code, out, err = cli("--topic-arn", topic_arn, "--severity", "critical")
    assert code == 0, err
    assert "Published test notification" in out and '"source": "custom"' in out
    (m,) = _read_inbox(sim.session("us-east-1"), queue_url)
    assert m["Subject"].startswith(
        "[eksmon] CRITICAL account 123456789012 (us-east-1): eksmon test notification"
    )
    attrs = {k: v["Value"] for k, v in m["MessageAttributes"].items()}
    assert (
        attrs["severity"] == "critical"
        and attrs["cluster"] == "-"
        and json.loads(attrs["changes"]) == ["test"]
    )
    assert "Nothing is wrong with any cluster" in m["Message"]


def test_the_topic_comes_from_the_environment(sim, topic, monkeypatch) -> None:
    topic_arn, queue_url = topic
    monkeypatch.setenv("TOPIC_ARN", topic_arn)
    assert cli()[0] == 0
    assert len(_read_inbox(sim.session("us-east-1"), queue_url)) == 1


def test_bad_usage_names_what_is_wrong(topic) -> None:
    code, _, err = cli()
    assert code == 2 and "--topic-arn or set TOPIC_ARN" in err
    code, _, err = cli("--topic-arn", "arn:aws:sqs:us-east-1:123456789012:q")
    assert code == 2 and "is not an SNS topic ARN" in err


def test_a_topic_that_does_not_exist_is_reported(topic) -> None:
    code, _, err = cli("--topic-arn", "arn:aws:sns:us-east-1:123456789012:missing")
    assert code == 3
    assert "cannot publish to arn:aws:sns:us-east-1:123456789012:missing: no such topic (NotFound)" in err
    assert "check --topic-arn" in err


def test_the_lambda_sends_it_on_a_notify_test_event(sim, topic, monkeypatch) -> None:
    from eksmon.handlers.lifecycle import handler

    topic_arn, queue_url = topic
    monkeypatch.setenv("TOPIC_ARN", topic_arn)
    monkeypatch.setenv("EKSMON_CONFIG", Settings(regions=["us-east-1"]).to_json())
    summary = handler({"notify_test": True}, LambdaContextStandIn("eksmon-lifecycle"))  # type: ignore[arg-type]
    assert summary["messages_published"] == 1 and summary["clusters"] == 0  # nothing was scanned
    (m,) = _read_inbox(sim.session("us-east-1"), queue_url)
    assert "eksmon test notification" in m["Subject"]
    assert sim.calls("eks") == []


def test_without_credentials_it_says_what_to_do(monkeypatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = cli("--topic-arn", "arn:aws:sns:us-east-1:123456789012:alerts")
    assert code == 3
    assert "no AWS credentials: set AWS_PROFILE or the AWS_* variables, or run inside AWS" in err
    assert "NoCredentialsError" not in err
