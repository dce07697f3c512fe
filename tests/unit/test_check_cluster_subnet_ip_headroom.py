"""cluster.subnet_ip_headroom as a pure function: zones, the 5-address line, gone subnets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eksmon.checks.cluster_subnet_ip_headroom import SubnetHeadroomThresholds, subnet_ip_headroom
from eksmon.collectors.ec2_subnets import RegionSubnets, Subnet
from eksmon.collectors.eks import _subnet_ids
from eksmon.models import Severity
from eksmon.parts import HealthIssue

from .lifecycle_builders import info, snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
DEFAULT = SubnetHeadroomThresholds()


def run(
    cluster_subnets: tuple[str, ...] | None,
    *subnets: Subnet,
    t: SubnetHeadroomThresholds = DEFAULT,
    **overrides: object,
) -> list:
    snap = snapshot(info(subnet_ids=cluster_subnets, **overrides), RegionSubnets({s.id: s for s in subnets}))
    return list(subnet_ip_headroom(snap, t, NOW))


def sub(ident: str, zone: str, free: int) -> Subnet:
    return Subnet(f"subnet-{ident}", f"us-east-1{zone}", free)


A, B, C = "subnet-a", "subnet-b", "subnet-c"


def test_two_zones_with_exactly_5_free_is_enough() -> None:  # the near-miss
    assert run((A, B), sub("a", "a", 5), sub("b", "b", 5)) == []


def test_one_subnet_below_5_while_two_other_zones_qualify_is_a_warning() -> None:
    [p] = run((A, B, C), sub("a", "a", 200), sub("b", "b", 5), sub("c", "c", 4))
    assert p.severity is Severity.WARNING and p.resource == "subnets"
    assert p.details["free_ips"] == {A: 200, B: 5, C: 4}
    assert p.details["zones_with_5_free"] == ["us-east-1a", "us-east-1b"]
    assert "subnet-c has fewer than 5 free" in p.message


def test_only_one_zone_with_room_is_critical() -> None:
    [p] = run((A, B), sub("a", "a", 40), sub("b", "b", 4))
    assert p.severity is Severity.CRITICAL
    assert p.details["zones_with_5_free"] == ["us-east-1a"]
    assert "only us-east-1a" in p.message and "an update would fail now" in p.message


def test_two_roomy_subnets_in_the_same_zone_count_as_one_zone() -> None:
    [p] = run((A, B, C), sub("a", "a", 100), sub("b", "a", 100), sub("c", "b", 3))
    assert p.severity is Severity.CRITICAL and p.details["zones_with_5_free"] == ["us-east-1a"]


def test_no_zone_with_room_is_critical() -> None:
    [p] = run((A, B), sub("a", "a", 0), sub("b", "b", 4))
    assert p.severity is Severity.CRITICAL and "no zone has" in p.message


def test_a_gone_subnet_is_critical_even_when_the_others_have_room() -> None:
    [p] = run((A, B, C), sub("a", "a", 251), sub("b", "b", 251))
    assert p.severity is Severity.CRITICAL
    assert p.details["gone_subnets"] == [C] and "subnet-c) " not in p.message
    assert "1 subnet of the cluster no longer exists (subnet-c)" in p.message


def test_a_gone_subnet_eks_already_reports_is_left_to_cluster_health_issue() -> None:
    issue = HealthIssue("Ec2SubnetNotFound", "gone", (C,))
    assert run((A, C), sub("a", "a", 251), health_issues=(issue,)) == []
    # a gone subnet EKS does not name is still reported
    other = HealthIssue("Ec2SubnetNotFound", "gone", ("subnet-zzz",))
    assert len(run((A, C), sub("a", "a", 251), sub("b", "b", 251), health_issues=(other,))) == 1


def test_node_group_subnets_and_other_subnets_of_the_region_are_not_judged() -> None:
    full_neighbour = sub("n", "c", 0)
    assert run((A, B), sub("a", "a", 9), sub("b", "b", 9), full_neighbour) == []


@pytest.mark.parametrize("subnets", [None, ()])
def test_unknown_subnets_are_not_guessed(subnets: tuple[str, ...] | None) -> None:
    assert run(subnets, sub("a", "a", 0)) == []


def test_a_cluster_being_deleted_is_not_judged() -> None:
    assert run((A, B), sub("a", "a", 0), status="DELETING") == []


def test_thresholds_are_configurable() -> None:
    strict = SubnetHeadroomThresholds(min_free_ips=16, min_zones=3)
    [p] = run((A, B, C), sub("a", "a", 20), sub("b", "b", 20), sub("c", "c", 15), t=strict)
    assert p.severity is Severity.CRITICAL and p.details["min_free_ips"] == 16
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        SubnetHeadroomThresholds(min_free_ips=0)


def test_subnet_ids_are_read_from_describe_cluster() -> None:
    assert _subnet_ids({"subnetIds": [A, B, A]}) == (A, B)
    assert _subnet_ids({"subnetIds": []}) == ()
    assert _subnet_ids({}) is None and _subnet_ids(None) is None
