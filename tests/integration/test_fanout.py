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


# -- the plan counts clusters ------------------------------------------------------------------------
def by_region(partitions: list[dict[str, Any]]) -> list[tuple[list[str], int]]:
    return [(p["regions"], p["clusters"]) for p in partitions]


DEMO_COUNTS = {r: len([c for c in DEMO_FLEET if c.region == r]) for r in DEMO_REGIONS}


def test_plan_counts_each_regions_clusters_and_packs_under_the_cluster_limit(lambda_env, monkeypatch) -> None:
    """Given the demo fleet (5 clusters in eu-west-1, 4 in us-east-1) and room for 6 clusters per
    invocation, when the plan is asked for, then it lists each region's clusters (one ListClusters each,
    through the scan's I/O layer) and puts the regions in separate partitions, each saying its count;
    with room for 9 they share one."""
    sim, _queue = lambda_env
    configure(
        monkeypatch,
        parse_settings({"regions": list(DEMO_REGIONS), "fanout": {"max_clusters_per_invocation": 6}}),
    )
    sim.requests.clear()
    plan = invoke({"plan": True})
    assert by_region(plan["partitions"]) == [([r], DEMO_COUNTS[r]) for r in sorted(DEMO_REGIONS)]
    assert (plan["clusters"], plan["max_clusters_per_invocation"]) == (len(DEMO_FLEET), 6)
    assert (plan["unread"], plan["oversized"]) == ([], [])
    listed = sorted(region for _eks, region, operation in sim.calls("eks") if operation == "GET /clusters")
    assert listed == sorted(DEMO_REGIONS)  # one ListClusters page per region
    configure(
        monkeypatch,
        parse_settings({"regions": list(DEMO_REGIONS), "fanout": {"max_clusters_per_invocation": 9}}),
    )
    assert by_region(invoke({"plan": True})["partitions"]) == [(sorted(DEMO_REGIONS), len(DEMO_FLEET))]


def test_plan_counts_only_the_clusters_the_monitor_scans(lambda_env, monkeypatch) -> None:
    configure(
        monkeypatch,
        parse_settings({"regions": list(DEMO_REGIONS), "clusters": {"exclude": ["*-prod"]}}),
    )
    prod = len([c for c in DEMO_FLEET if c.name.endswith("-prod")])
    assert prod > 0
    assert invoke({"plan": True})["clusters"] == len(DEMO_FLEET) - prod


def test_the_default_cluster_limit_comes_from_the_function_memory(lambda_env, monkeypatch) -> None:
    """Lambda tells the function its memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); the plan's invocation
    has the function's timeout ahead of it (300 s in the demo's context): 512 MB gives 1,593 clusters (by
    memory), 1,024 MB 3,617 (by CPU time: eksmon.partition)."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    assert invoke({"plan": True})["max_clusters_per_invocation"] == 1_593
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
    assert invoke({"plan": True})["max_clusters_per_invocation"] == 3_617


def test_plan_rides_out_throttled_counts(lambda_env, monkeypatch) -> None:
    sim, _queue = lambda_env
    sim.fault("eks", operation="GET /clusters", code="ThrottlingException", status=400, times=3)
    plan = invoke({"plan": True})
    assert (plan["clusters"], plan["unread"]) == (len(DEMO_FLEET), [])


def test_a_region_whose_clusters_cannot_be_counted_is_assumed_full_and_named(
    lambda_env, monkeypatch, caplog
) -> None:
    """Given ListClusters denied in eu-west-1, when the plan is made, then eu-west-1 counts as EKS's
    default quota (100 clusters) -- never as empty --, the plan names it and why, the log warns, and
    us-east-1 is still counted."""
    sim, _queue = lambda_env
    sim.fault("eks", operation="GET /clusters", region="eu-west-1")
    configure(
        monkeypatch,
        parse_settings({"regions": list(DEMO_REGIONS), "fanout": {"max_clusters_per_invocation": 100}}),
    )
    plan = invoke({"plan": True})
    assert plan["unread"] == ["this account eu-west-1: eks:ListClusters: AccessDeniedException"]
    assert by_region(plan["partitions"]) == [(["eu-west-1"], 100), (["us-east-1"], DEMO_COUNTS["us-east-1"])]
    assert plan["oversized"] == []  # 100 is the limit, not over it
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "could not be counted" in warning.getMessage()


def test_an_account_whose_role_cannot_be_assumed_is_assumed_full_and_a_busy_pair_is_oversized(
    lambda_env, monkeypatch
) -> None:
    sim, _queue = lambda_env
    sim.fault("sts", operation="AssumeRole")
    configure(
        monkeypatch,
        parse_settings(
            {
                "regions": ["eu-west-1"],
                "accounts": {"ids": ["111111111111"]},
                "fanout": {"max_clusters_per_invocation": 40},
            }
        ),
    )
    plan = invoke({"plan": True})
    assert plan["unread"] == ["111111111111 eu-west-1: sts:AssumeRole: AccessDeniedException"]
    assert plan["partitions"] == [{"accounts": ["111111111111"], "regions": ["eu-west-1"], "clusters": 100}]
    assert plan["oversized"] == ["111111111111 eu-west-1: 100 clusters, about 113 MiB"]


def test_a_plan_too_large_for_the_state_machine_fails_naming_the_fix(lambda_env, monkeypatch) -> None:
    """The plan's partitions travel in the execution's state (256 KiB at most): a plan that would not fit
    fails the plan step with what to change, rather than Step Functions' States.DataLimitExceeded."""
    import eksmon.runner
    from eksmon.errors import ScanAborted

    monkeypatch.setattr(eksmon.runner, "PLAN_MAX_BYTES", 100)
    with pytest.raises(
        ScanAborted, match=r"2 partitions take 1\d\d bytes.*fanout.max_targets_per_invocation"
    ):
        configure(
            monkeypatch,
            parse_settings({"regions": list(DEMO_REGIONS), "fanout": {"max_targets_per_invocation": 1}}),
        )
        invoke({"plan": True})
    monkeypatch.setattr(eksmon.runner, "PLAN_MAX_BYTES", 200)
    assert len(invoke({"plan": True})["partitions"]) == 2  # the near miss: it fits


def test_plan_counts_the_clusters_of_many_member_accounts(lambda_env, monkeypatch) -> None:
    """Given 40 accounts (the demo account among them; their roles are assumed in groups side by side),
    when the plan is made, then every account's clusters are counted, and the demo account's are its own."""
    members = [f"{200000000000 + i:012d}" for i in range(39)] + [DEMO_ACCOUNT]
    configure(
        monkeypatch,
        parse_settings(
            {
                "regions": ["eu-west-1"],
                "accounts": {"ids": members},
                "fanout": {"max_clusters_per_invocation": 4},
            }
        ),
    )
    plan = invoke({"plan": True})
    assert (plan["clusters"], plan["unread"]) == (DEMO_COUNTS["eu-west-1"], [])
    (busy,) = [p for p in plan["partitions"] if DEMO_ACCOUNT in p["accounts"]]
    assert busy == {"accounts": [DEMO_ACCOUNT], "regions": ["eu-west-1"], "clusters": 5}
    assert plan["oversized"] == [f"{DEMO_ACCOUNT} eu-west-1: 5 clusters, about 101 MiB"]
    assert sorted(a for p in plan["partitions"] for a in p["accounts"]) == sorted(members)
