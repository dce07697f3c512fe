"""The quota catalogue against AWS's quota data (held independently by the simulator) and the collectors."""

from __future__ import annotations

import re

import pytest

from eksmon.collectors.quota_usage import _COUNTERS, CLUSTER_COUNTERS
from eksmon.quotas_catalogue import CATALOGUE, console_url, global_quota_region
from eksmon.registry import load
from eksmon.sim.service_quotas import AWS_QUOTAS

AWS = {(q.service, q.code): q for q in AWS_QUOTAS}


def test_codes_are_unique_and_well_formed() -> None:
    codes = [q.quota_code for q in CATALOGUE]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"L-[0-9A-F]{8}", c) for c in codes)


@pytest.mark.parametrize("quota", CATALOGUE, ids=lambda q: f"{q.service_code}/{q.quota_code}")
def test_each_entry_is_the_aws_quota_of_that_name(quota) -> None:
    aws = AWS.get(quota.key)
    assert aws is not None, f"{quota.key} is not an AWS quota"
    assert aws.name == quota.name and aws.default == quota.default
    assert aws.global_quota == quota.global_quota


@pytest.mark.parametrize("quota", CATALOGUE, ids=lambda q: f"{q.service_code}/{q.quota_code}")
def test_each_entry_has_a_usage_source(quota) -> None:
    if quota.counter is None:  # usage only from the quota's own metric: AWS must publish one
        assert AWS[quota.key].usage_metric is not None
        assert quota.usage.startswith("AWS/Usage")
    elif quota.scope in {"cluster", "nodegroup"}:
        assert CLUSTER_COUNTERS[quota.counter] == quota.key
    else:
        assert quota.counter in _COUNTERS
    assert quota.impact and quota.relief and quota.usage


def test_the_issue_list_is_covered() -> None:
    have = {q.key for q in CATALOGUE}
    assert have >= {
        ("eks", "L-1194D53C"),
        ("eks", "L-6D54EA21"),
        ("eks", "L-BD136A63"),
        ("eks", "L-33415657"),
        ("ec2", "L-1216C47A"),
        ("ec2", "L-0263D0A3"),
        ("vpc", "L-F678F1CE"),
        ("vpc", "L-DF5E4CA3"),
        ("vpc", "L-E79EC296"),
        ("elasticloadbalancing", "L-53DA6B97"),
        ("elasticloadbalancing", "L-69A177A2"),
        ("elasticloadbalancing", "L-B22855CB"),
        ("iam", "L-FE177D64"),
        ("iam", "L-858F3967"),
    }
    assert {q.scope for q in CATALOGUE} == {"region", "account", "cluster", "nodegroup"}


def test_the_iam_policy_allows_every_call_the_collectors_make() -> None:
    registry = load()
    actions = set(registry.iam_actions(registry.select(monitor="quotas")))
    assert {action for action, _ in _COUNTERS.values()} <= actions
    assert {
        "servicequotas:ListServiceQuotas",
        "servicequotas:ListAWSDefaultServiceQuotas",
        "cloudwatch:GetMetricData",
        "eks:ListNodegroups",
        "eks:DescribeNodegroup",
        "eks:ListFargateProfiles",
    } <= actions


@pytest.mark.parametrize(
    ("region", "expected"),
    [("eu-west-1", "us-east-1"), ("cn-northwest-1", "cn-north-1"), ("us-gov-east-1", "us-gov-west-1")],
)
def test_global_quotas_are_read_in_the_partition_global_region(region: str, expected: str) -> None:
    assert global_quota_region(region) == expected


def test_console_link() -> None:
    assert console_url("ec2", "L-1216C47A", "eu-west-1") == (
        "https://eu-west-1.console.aws.amazon.com/servicequotas/home/services/ec2/quotas/L-1216C47A"
    )
