"""Organization mode: every ACTIVE member account is scanned, and an Organization that cannot be listed is
one collection error, not a crash and not a silent scan of the home account alone."""

from __future__ import annotations

from typing import Any

import pytest

from eksmon.context import COLLECTION_ERROR
from eksmon.engine import ScanResult, scan
from eksmon.errors import ScanAborted
from eksmon.runner import MonitorEnvironment, plan_partitions
from eksmon.settings import parse_settings
from eksmon.sim.eks import EksExtension
from eksmon.sim.fleet import DEMO_NOW, DemoCluster
from eksmon.sim.server import Simulator

REGIONS = ["eu-west-1", "us-east-1"]


def organization(sim: Simulator, members: int = 2) -> tuple[str, list[str]]:
    """An Organization of the simulator's account and ``members`` member accounts, one cluster in each
    member (1.31: a finding in every one). Returns (home account, member ids)."""
    org = sim.session("us-east-1").client("organizations")
    home = org.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
    for i in range(members):
        org.create_account(Email=f"team-{i}@example.com", AccountName=f"team-{i}")
    ids = sorted(a["Id"] for a in org.list_accounts()["Accounts"] if a["Id"] != home)
    eks = sim.extension(EksExtension)
    for i, account in enumerate(ids):
        eks.add_cluster(DemoCluster(name=f"team-{i}", region="eu-west-1", version="1.31"), account)
    eks.add_cluster(DemoCluster(name="home", region="eu-west-1", version="1.31"), home)
    return home, ids


def lifecycle(sim: Simulator, **accounts: Any) -> ScanResult:
    settings = parse_settings(
        {
            "regions": REGIONS,
            "kubernetes": {"enabled": False},
            "accounts": accounts,
            "aws": {"max_pages": 5, "throttle_budget_seconds": 1},
        }
    )
    return scan(settings, DEMO_NOW, monitor="lifecycle", session_factory=sim.session_factory())


def errors(result: ScanResult) -> list[Any]:
    return [f for f in result.findings if f.check == COLLECTION_ERROR]


def test_every_member_account_of_the_organization_is_scanned(sim: Simulator) -> None:
    home, members = organization(sim)
    result = lifecycle(sim, organization=True)
    assert errors(result) == []
    scanned = {(f.account, f.cluster) for f in result.findings if f.check == "version.extended_support"}
    assert scanned == {(home, "home"), *((m, f"team-{i}") for i, m in enumerate(members))}


def test_an_organization_that_cannot_be_listed_is_one_error_and_the_known_accounts_are_still_scanned(
    sim: Simulator,
) -> None:
    home, members = organization(sim)
    sim.fault("organizations", operation="ListAccounts")  # AccessDenied: not the management account
    result = lifecycle(sim, organization=True, ids=[members[0]])
    (error,) = errors(result)
    assert (error.account, error.region, error.details["source"]) == (
        home,
        REGIONS[0],
        "organizations:ListAccounts",
    )
    assert "AccessDenied" in error.message
    clusters = {f.cluster for f in result.findings if f.check == "version.extended_support"}
    assert clusters == {"team-0"}  # the configured account; the home account is not in ids


def test_a_list_of_accounts_that_never_ends_stops_at_the_page_ceiling(sim: Simulator) -> None:
    home, _members = organization(sim)
    sim.fault("organizations", operation="ListAccounts", kind="endless_token")
    before = len(sim.calls("organizations"))
    result = lifecycle(sim, organization=True)
    (error,) = errors(result)
    assert (error.account, error.details["source"]) == (home, "organizations:ListAccounts")
    assert "aws.max_pages" in error.message
    list_calls = [c for c in sim.calls("organizations")[before:] if c[2] == "ListAccounts"]
    assert len(list_calls) == 6  # the 5 pages the ceiling admits, and the one past it
    assert {f.cluster for f in result.findings if f.check == "version.extended_support"} == {"home"}


def test_the_fanout_plan_fails_loudly_naming_the_organization_list(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    organization(sim)
    sim.fault("organizations", operation="ListAccounts")
    for k, v in sim.environ("us-east-1").items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv(
        "EKSMON_CONFIG", parse_settings({"regions": REGIONS, "accounts": {"organization": True}}).to_json()
    )
    with pytest.raises(ScanAborted, match=r"organizations:ListAccounts.*AccessDenied"):
        plan_partitions(MonitorEnvironment.from_environ())
