"""Alerts people trust: over a sequence of runs, exactly the expected notifications and none else.

The lifecycle Lambda's code path (run_monitor) against the simulator's DynamoDB and SNS, with a queue
subscribed to the topic standing in for the inbox. One cluster on Kubernetes 1.34, whose standard
support ends on 2026-12-02: warning from 90 days before, critical from 30.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from eksmon.sim.server import Simulator
from tests.conftest import utc
from tests.integration.alerting_env import Inbox, add_cluster, changes, make_inbox, set_version, told

WARNING_DAY = utc(2026, 9, 10, 6)  # 83 days left: warning
CRITICAL_DAY = utc(2026, 11, 5, 6)  # 27 days left: critical
SUPPORT = ("prod", "version.standard_support_ending", "version/1.34")


@pytest.fixture
def inbox(sim: Simulator) -> Inbox:
    add_cluster(sim, "prod", "1.34")
    return make_inbox(sim)


def test_new_repeated_severity_change_resolved_reappears(inbox: Inbox) -> None:
    # new
    assert inbox.run(WARNING_DAY).messages_published == 1
    (m,) = inbox.messages()
    assert changes(m) == ["new"] and told(m) == [SUPPORT]
    assert m["MessageAttributes"]["severity"]["Value"] == "warning"
    assert "Kubernetes 1.34" in m["Subject"]

    # repeated x10 within the re-notify interval: nothing
    for i in range(1, 11):
        assert inbox.run(WARNING_DAY + timedelta(hours=12 * i)).messages_published == 0
    assert inbox.messages() == []

    # severity change
    inbox.run(CRITICAL_DAY)
    (m,) = inbox.messages()
    assert changes(m) == ["severity_changed"] and told(m) == [SUPPORT]
    assert m["MessageAttributes"]["severity"]["Value"] == "critical"
    assert "[CRITICAL, was warning]" in m["Message"]
    inbox.run(CRITICAL_DAY + timedelta(hours=1))
    assert inbox.messages() == []

    # resolved: the cluster was upgraded
    set_version("prod", "1.35")
    inbox.run(CRITICAL_DAY + timedelta(hours=2))
    (m,) = inbox.messages()
    assert changes(m) == ["resolved"] and told(m) == [SUPPORT]
    assert "[RESOLVED, was critical]" in m["Message"]
    inbox.run(CRITICAL_DAY + timedelta(hours=3))
    assert inbox.messages() == []
    (item,) = inbox.items()
    assert item["status"] == "resolved" and "expires_at" in item

    # reappears (the upgrade was rolled back onto a restored cluster)
    set_version("prod", "1.34")
    inbox.run(CRITICAL_DAY + timedelta(hours=4))
    (m,) = inbox.messages()
    assert changes(m) == ["new"] and told(m) == [SUPPORT]
    inbox.run(CRITICAL_DAY + timedelta(hours=5))
    assert inbox.messages() == []


def test_an_open_finding_is_sent_again_after_seven_days(inbox: Inbox) -> None:
    inbox.run(WARNING_DAY)
    inbox.messages()
    inbox.run(WARNING_DAY + timedelta(days=6, hours=23))
    assert inbox.messages() == []
    inbox.run(WARNING_DAY + timedelta(days=7))
    (m,) = inbox.messages()
    assert changes(m) == ["still_open"] and "Open since 2026-09-10" in m["Message"]


def test_two_runs_at_once_send_each_change_once(inbox: Inbox, sim: Simulator) -> None:
    for i in range(6):  # more clusters, so that the two runs overlap for a while
        add_cluster(sim, f"team-{i}", "1.33" if i % 2 else "1.34")
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def one_run() -> None:
        start.wait()
        try:
            inbox.run(CRITICAL_DAY)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    messages = inbox.messages()
    sent = Counter(f for m in messages for f in told(m))
    assert len(sent) == 7 and set(sent.values()) == {1}  # every cluster's finding, each exactly once
    assert all(changes(m) == ["new"] for m in messages)
    inbox.run(CRITICAL_DAY + timedelta(minutes=1))
    assert inbox.messages() == []


def test_a_crash_between_publishing_and_recording_sends_again_never_loses(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eksmon.state import CLAIM_LEASE, FindingsState

    def crash(self, claims):
        raise SystemExit("the Lambda was killed after publishing")

    with monkeypatch.context() as patch:
        patch.setattr(FindingsState, "commit", crash)
        with pytest.raises(SystemExit):
            inbox.run(WARNING_DAY)
    (first,) = inbox.messages()  # published before the crash
    inbox.run(WARNING_DAY + timedelta(minutes=5))  # may be the same run still publishing: wait
    assert inbox.messages() == []
    inbox.run(WARNING_DAY + CLAIM_LEASE)
    (again,) = inbox.messages()  # errs toward a duplicate
    assert told(again) == told(first) == [SUPPORT]
    inbox.run(WARNING_DAY + CLAIM_LEASE + timedelta(minutes=15))
    assert inbox.messages() == []


def test_a_crash_between_claiming_and_publishing_is_sent_by_a_later_run(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eksmon.publish import notify
    from eksmon.state import CLAIM_LEASE

    def crash(*args, **kwargs):
        raise SystemExit("the Lambda was killed before publishing")

    with monkeypatch.context() as patch:
        patch.setattr(notify, "publish_one", crash)
        with pytest.raises(SystemExit):
            inbox.run(WARNING_DAY)
    assert inbox.messages() == []
    inbox.run(WARNING_DAY + CLAIM_LEASE)
    (m,) = inbox.messages()
    assert told(m) == [SUPPORT]


def test_a_failed_publish_is_retried_by_the_next_run(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from eksmon.runner import NotificationError

    outage = inbox.sim.fault("sns", operation="Publish", code="InternalError", status=500)
    with pytest.raises(NotificationError, match="could not be published"):
        inbox.run(WARNING_DAY)
    assert inbox.messages() == []
    outage.times = outage.hits  # SNS is back
    inbox.run(WARNING_DAY + timedelta(minutes=1))  # claims were given back: no lease to wait for
    (m,) = inbox.messages()
    assert told(m) == [SUPPORT]


def test_each_run_says_what_it_published(inbox: Inbox, capsys: pytest.CaptureFixture[str]) -> None:
    """In the run's summary (its log line); AWS/SNS NumberOfMessagesPublished counts it for free."""
    import json

    assert inbox.run(WARNING_DAY).messages_published == 1
    assert inbox.run(WARNING_DAY + timedelta(hours=1)).messages_published == 0
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    assert records and not [r for r in records if "NotificationsPublished" in r]
