"""Cluster filters: names, globs and ARNs, and what a pattern that selects nothing is told."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from eksmon.clusterfilter import FilterMiss, closest, included, misses, parse
from eksmon.engine import ABOUT_THE_MONITOR, FILTER_MATCHES_NOTHING, filter_finding
from eksmon.errors import ConfigError
from eksmon.settings import parse_settings

A, B = "111111111111", "222222222222"
EAST, WEST = "us-east-1", "eu-west-1"
ARN = f"arn:aws:eks:{EAST}:{A}:cluster/payments-prod"


def test_an_arn_selects_its_cluster_only_in_its_account_and_region() -> None:
    pattern = parse(ARN)
    assert pattern.matches("payments-prod", A, EAST)
    assert not pattern.matches("payments-prod", B, EAST)  # the same name in another account
    assert not pattern.matches("payments-prod", A, WEST)  # ... or another region
    assert not pattern.matches("payments-prod2", A, EAST)


def test_an_arn_of_another_partition_and_a_glob_in_the_name_part() -> None:
    pattern = parse(f"arn:aws-cn:eks:cn-north-1:{A}:cluster/prod-*")
    assert pattern.matches("prod-a", A, "cn-north-1") and not pattern.matches("dev-a", A, "cn-north-1")


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:eks:us-east-1:1234:cluster/x",  # not a 12-digit account
        f"arn:aws:eks:us-east-1:{A}:nodegroup/x/y/z",  # not a cluster
        f"arn:aws:ec2:us-east-1:{A}:cluster/x",  # not EKS
        f"arn:aws:eks:us-east-1:{A}:cluster/",  # no name
    ],
)
def test_a_malformed_arn_is_a_configuration_error_naming_the_key(text: str) -> None:
    with pytest.raises(ValueError, match="not an EKS cluster ARN"):
        parse(text)
    with pytest.raises(ConfigError, match=r"clusters\.include"):
        parse_settings({"clusters": {"include": [text]}})


def test_names_and_globs_match_as_before_in_any_account_and_region() -> None:
    assert included(["prod-*"], [], "prod-a", A, EAST) and included(["prod-*"], [], "prod-a", B, WEST)
    assert not included(["prod-*"], ["prod-a"], "prod-a", A, EAST)
    assert not included(["prod-*"], [ARN.replace("payments-prod", "prod-a")], "prod-a", A, EAST)
    assert included(["prod-*"], [ARN.replace("payments-prod", "prod-a")], "prod-a", B, EAST)
    assert not included(["Prod-*"], [], "prod-a", A, EAST)  # case-sensitive, as EKS names are


def test_closest_names_come_first_and_there_are_a_few() -> None:
    names = ["analytics", "checkout-prod", "payments-prod", "payments-staging", "render-farm"]
    assert closest("paymnets-prod", names)[0] == "payments-prod"
    assert len(closest("x", names)) == 3 and closest("x", []) == []


def _misses(include: list[str], unread: Sequence[tuple[str, str]] = ()) -> list[FilterMiss]:
    listed = [(A, EAST, "payments-prod"), (A, EAST, "checkout-prod"), (A, WEST, "ml-training")]
    selected = [c for c in listed if any(parse(p).matches(c[2], c[0], c[1]) for p in include)]
    return misses(include, selected, listed, [(A, EAST), (A, WEST)], unread)


def test_only_patterns_that_select_nothing_are_misses_and_the_catch_all_never() -> None:
    assert _misses(["*", "payments-*", ARN]) == []
    (miss,) = _misses(["*", "payments-*", "checkuot-prod"])
    assert miss.pattern == "checkuot-prod" and miss.suggestions[0] == "checkout-prod" and miss.unread == ()
    assert "matches no cluster in the scanned accounts and regions. Clusters that exist: checkout-prod" in (
        miss.text()
    )


def test_a_miss_where_clusters_could_not_be_listed_says_it_may_be_there() -> None:
    (miss,) = _misses(["checkuot-prod"], unread=[(A, WEST)])
    assert miss.unread == (f"{A}/{WEST}",)
    assert "in the clusters that could be listed" in miss.text() and "may be there" in miss.text()
    # an ARN of the region that was read is certain, whatever happened elsewhere
    (arn_miss,) = _misses([ARN.replace("payments-prod", "payments-prd")], unread=[(A, WEST)])
    assert arn_miss.unread == () and arn_miss.suggestions[0] == "payments-prod"
    assert "ml-training" not in arn_miss.suggestions  # the names of its own account and region only


def test_a_miss_when_the_organization_could_not_be_listed_is_not_certain() -> None:
    listed = [(A, EAST, "payments-prod")]
    (name,) = misses(["paymnets-prod"], [], listed, [(A, EAST)], [], ["the accounts of the Organization"])
    assert "could not be listed" in name.text() and "may be there" in name.text()
    (arn,) = misses([ARN.replace("payments-prod", "x")], [], listed, [(A, EAST)], [], ["the Organization"])
    assert arn.unread == ()  # an ARN names its account, which was read


def test_an_arn_outside_the_scan_says_what_to_add() -> None:
    (region,) = _misses([ARN.replace(EAST, "ap-south-1")])
    assert region.outside == "its region ap-south-1 is not scanned (add --region ap-south-1)"
    (account,) = _misses([ARN.replace(A, B)])
    assert account.outside is not None and account.outside.startswith(f"its account {B} is not scanned")


def test_the_monitor_finding_names_the_pattern_and_the_names_that_exist() -> None:
    (miss,) = _misses(["checkuot-prod"])
    now = datetime(2026, 11, 26, tzinfo=UTC)
    finding = filter_finding(miss, A, EAST, "lifecycle", now)
    assert (finding.check, finding.severity.value, finding.cluster) == (
        FILTER_MATCHES_NOTHING,
        "warning",
        None,
    )
    assert (
        finding.resource == "filter/checkuot-prod"
        and finding.details["existing_clusters"][0] == "checkout-prod"
    )
    assert finding.message.startswith("The lifecycle monitor's clusters.include 'checkuot-prod' matches no")
    assert finding.message.endswith("Nothing is watched through that pattern.")
    assert FILTER_MATCHES_NOTHING in ABOUT_THE_MONITOR  # about the monitor, not the fleet
    other = filter_finding(_misses(["x"])[0], A, EAST, "lifecycle", now)
    assert other.fingerprint != finding.fingerprint
