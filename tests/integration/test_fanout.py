"""The fan-out path of a monitor Lambda, as the Step Functions state machine drives it.

Given the demo fleet and the findings table, when the handler is asked for a plan, then it returns the
partitions of the configured (or the Organization's) accounts x regions; when it is invoked with one
partition, then it scans exactly that partition, and the findings state of the other partitions is left
alone (nothing there is resolved because this run did not look).
"""

from __future__ import annotations

from typing import Any

import pytest

from eksmon.demo import FINDINGS_TABLE, LambdaContextStandIn, _inbox, _read_inbox
from eksmon.settings import Settings, parse_settings
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_FLEET, DEMO_NOW, DEMO_REGIONS
from eksmon.sim.server import Simulator
from eksmon.state import create_table


@pytest.fixture
def lambda_env(demo_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> tuple[Simulator, str]:
    session = demo_sim.session("us-east-1")
    topic_arn, queue_url = _inbox(session)
    create_table(session.client("dynamodb"), FINDINGS_TABLE)
    for k, v in demo_sim.environ("us-east-1").items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("TOPIC_ARN", topic_arn)
    monkeypatch.setenv("FINDINGS_TABLE", FINDINGS_TABLE)
    configure(monkeypatch, Settings(regions=list(DEMO_REGIONS)))
    return demo_sim, queue_url


def configure(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("EKSMON_CONFIG", settings.to_json())


def invoke(event: dict[str, Any], monitor: str = "lifecycle") -> dict[str, Any]:
    import importlib

    module = importlib.import_module(f"eksmon.handlers.{monitor}")
    result: dict[str, Any] = module.handler(event, LambdaContextStandIn(f"eksmon-{monitor}"))
    return result


def test_plan_partitions_the_configured_accounts_and_regions(lambda_env, monkeypatch) -> None:
    configure(
        monkeypatch,
        parse_settings(
            {
                "regions": ["us-east-1", "eu-west-1", "us-west-2", "eu-central-1"],
                "accounts": {
                    "ids": ["111111111111", "222222222222", "333333333333", "444444444444"],
                    "exclude": ["444444444444"],
                },
                "fanout": {"max_targets_per_invocation": 4},
            }
        ),
    )
    plan = invoke({"plan": True, "source": "eksmon.schedule"})
    assert plan["targets"] == 12
    assert [p["accounts"] for p in plan["partitions"]] == [
        ["111111111111"],
        ["222222222222"],
        ["333333333333"],
    ]
    assert all(
        p["regions"] == ["eu-central-1", "eu-west-1", "us-east-1", "us-west-2"] for p in plan["partitions"]
    )


def test_plan_in_organization_mode_lists_the_active_accounts(lambda_env, monkeypatch) -> None:
    sim, _queue = lambda_env
    org = sim.session("us-east-1").client("organizations")
    org.create_organization(FeatureSet="ALL")
    for name in ("team-a", "team-b"):
        org.create_account(Email=f"{name}@example.com", AccountName=name)
    members = sorted(a["Id"] for a in org.list_accounts()["Accounts"])
    assert len(members) == 3  # the management account and two members
    configure(
        monkeypatch,
        parse_settings(
            {
                "regions": ["us-east-1", "eu-west-1"],
                "accounts": {"organization": True, "exclude": [members[0]]},
                "fanout": {"max_targets_per_invocation": 2},
            }
        ),
    )
    plan = invoke({"plan": True})
    assert [p["accounts"] for p in plan["partitions"]] == [[m] for m in members[1:]]
    assert plan["targets"] == 4


def test_a_partition_scans_only_its_accounts_and_regions(lambda_env) -> None:
    summary = invoke({"now": DEMO_NOW.isoformat(), "partition": {"accounts": [], "regions": ["eu-west-1"]}})
    assert summary["clusters"] == len([c for c in DEMO_FLEET if c.region == "eu-west-1"])
    assert summary["clusters"] < len(DEMO_FLEET)


def test_a_partition_neither_resolves_nor_repeats_the_other_partitions_findings(lambda_env) -> None:
    sim, queue_url = lambda_env
    inbox = sim.session("us-east-1")
    whole = invoke({"now": DEMO_NOW.isoformat()})
    assert whole["messages_published"] == len(_read_inbox(inbox, queue_url)) > 0
    for region in DEMO_REGIONS:
        part = {"accounts": [DEMO_ACCOUNT], "regions": [region]}
        again = invoke({"now": DEMO_NOW.isoformat(), "partition": part})
        assert again["messages_published"] == 0, region  # nothing changed there; the rest not resolved
    assert _read_inbox(inbox, queue_url) == []


def test_a_bad_partition_is_refused_before_scanning(lambda_env) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        invoke({"partition": {"accounts": ["not-an-account"], "regions": ["eu-west-1"]}})
