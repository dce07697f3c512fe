"""The simulator's GetMetricData (eksmon.sim.cloudwatch), over HTTP through boto3, as against CloudWatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eksmon.sim.cloudwatch import CloudWatchExtension
from eksmon.sim.server import Simulator

ACCOUNT = "123456789012"
T0 = datetime(2026, 11, 20, tzinfo=UTC)
DIMS = {"Service": "EC2", "Type": "Resource", "Resource": "vCPU", "Class": "Standard/OnDemand"}


def stat(qid: str, name: str = "ResourceCount", dims: dict[str, str] = DIMS, **kw: Any) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": kw.pop("namespace", "AWS/Usage"),
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            },
            "Period": kw.pop("period", 3600),
            "Stat": kw.pop("stat", "Maximum"),
        },
        **kw,
    }


def fetch(sim: Simulator, queries: list[dict[str, Any]], hours: int = 24, **kw: Any) -> dict[str, Any]:
    cw = sim.session("us-east-1").client("cloudwatch")
    return cw.get_metric_data(
        MetricDataQueries=queries, StartTime=T0, EndTime=T0 + timedelta(hours=hours), **kw
    )


def by_id(resp: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["Id"]: r for r in resp["MetricDataResults"]}


@pytest.fixture
def cw(sim: Simulator) -> CloudWatchExtension:
    ext: CloudWatchExtension = sim.extension(CloudWatchExtension)
    return ext


def test_hourly_maximum_newest_first_by_default(sim: Simulator, cw: CloudWatchExtension) -> None:
    # Given one datapoint every 20 minutes for 3 hours, rising by 1 each time
    cw.put_series(
        ACCOUNT, "us-east-1", "AWS/Usage", "ResourceCount", DIMS, T0, timedelta(minutes=20), range(9)
    )
    result = by_id(fetch(sim, [stat("m1")]))["m1"]
    assert result["Values"] == [8.0, 5.0, 2.0]
    assert [t.hour for t in result["Timestamps"]] == [2, 1, 0]
    assert result["StatusCode"] == "Complete"
    asc = by_id(fetch(sim, [stat("m1")], ScanBy="TimestampAscending"))["m1"]
    assert asc["Values"] == [2.0, 5.0, 8.0]


def test_statistics(sim: Simulator, cw: CloudWatchExtension) -> None:
    cw.put_series(
        ACCOUNT,
        "us-east-1",
        "AWS/Usage",
        "ResourceCount",
        DIMS,
        T0,
        timedelta(minutes=10),
        [1, 2, 3, 4, 5, 6],
    )
    got = by_id(
        fetch(
            sim,
            [
                stat(f"s{i}", stat=s)
                for i, s in enumerate(("Average", "Sum", "Minimum", "SampleCount", "p50"))
            ],
        )
    )
    assert [got[f"s{i}"]["Values"] for i in range(5)] == [[3.5], [21.0], [1.0], [6.0], [3.5]]


def test_namespace_and_the_full_dimension_set_must_match(sim: Simulator, cw: CloudWatchExtension) -> None:
    cw.put(ACCOUNT, "us-east-1", "AWS/Usage", "ResourceCount", DIMS, [(T0, 10.0)])
    cw.put(ACCOUNT, "us-east-1", "Custom/Other", "ResourceCount", DIMS, [(T0, 99.0)])
    cw.put(ACCOUNT, "us-east-1", "AWS/Usage", "ResourceCount", {**DIMS, "Extra": "x"}, [(T0, 77.0)])
    cw.put(ACCOUNT, "eu-west-1", "AWS/Usage", "ResourceCount", DIMS, [(T0, 55.0)])
    got = by_id(fetch(sim, [stat("m1"), stat("m2", dims={"Service": "EC2"})]))
    assert got["m1"]["Values"] == [10.0]
    assert got["m2"]["Values"] == []


def test_put_metric_data_over_http_reaches_the_same_store(sim: Simulator) -> None:
    cw = sim.session("us-east-1").client("cloudwatch")
    cw.put_metric_data(
        Namespace="AWS/Usage",
        MetricData=[
            {
                "MetricName": "ResourceCount",
                "Dimensions": [{"Name": k, "Value": v} for k, v in DIMS.items()],
                "Timestamp": T0 + timedelta(minutes=5),
                "Value": 42,
            }
        ],
    )
    assert by_id(fetch(sim, [stat("m1")]))["m1"]["Values"] == [42.0]


def test_metric_math(sim: Simulator, cw: CloudWatchExtension) -> None:
    cw.put_series(
        ACCOUNT,
        "us-east-1",
        "AWS/EKS",
        "total",
        {"ClusterName": "a"},
        T0,
        timedelta(hours=1),
        [100, 200, 400],
    )
    cw.put_series(
        ACCOUNT, "us-east-1", "AWS/EKS", "errors", {"ClusterName": "a"}, T0, timedelta(hours=1), [1, 10]
    )
    queries = [
        stat("total", "total", {"ClusterName": "a"}, namespace="AWS/EKS", stat="Sum", ReturnData=False),
        stat("errors", "errors", {"ClusterName": "a"}, namespace="AWS/EKS", stat="Sum", ReturnData=False),
        {"Id": "rate", "Expression": "errors / total * 100", "Label": "5xx %"},
        {"Id": "filled", "Expression": "FILL(errors, 0)"},
        {"Id": "peak", "Expression": "MAX(total)"},
        {"Id": "both", "Expression": "SUM([total, errors])"},
        {"Id": "neg", "Expression": "-(total - 2 ^ 3)"},
        {"Id": "all", "Expression": "AVG(METRICS())"},
        {"Id": "later", "Expression": "rate2 + 1"},
        {"Id": "rate2", "Expression": "ABS(rate)"},
    ]
    got = by_id(fetch(sim, queries, hours=3, ScanBy="TimestampAscending"))
    assert set(got) == {"rate", "filled", "peak", "both", "neg", "all", "later", "rate2"}
    assert got["rate"]["Values"] == [1.0, 5.0] and got["rate"]["Label"] == "5xx %"
    assert got["filled"]["Values"] == [1.0, 10.0, 0.0]
    assert got["peak"]["Values"] == [400.0, 400.0, 400.0]  # a scalar, at every timestamp
    assert got["both"]["Values"] == [101.0, 210.0, 400.0]
    assert got["neg"]["Values"] == [-92.0, -192.0, -392.0]
    assert got["all"]["Values"] == [50.5, 105.0, 400.0]
    assert got["later"]["Values"] == [2.0, 6.0]


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("SEARCH('{AWS/EC2} CPUUtilization', 'Average')", "does not implement SEARCH"),
        ("RATE(m1)", "does not implement the metric math function RATE"),
        ("m1 +", "ends too early"),
        ("nosuchid * 2", "unknown or circular"),
    ],
)
def test_unsupported_or_broken_expressions_fail_loudly(sim: Simulator, expression: str, error: str) -> None:
    with pytest.raises(ClientError, match=error) as info:
        fetch(sim, [stat("m1"), {"Id": "e1", "Expression": expression}])
    assert info.value.response["Error"]["Code"] == "ValidationError"


def test_at_most_500_queries_per_call(sim: Simulator) -> None:
    fetch(sim, [stat(f"m{i}") for i in range(500)])
    with pytest.raises(ClientError, match="greater than 500"):
        fetch(sim, [stat(f"m{i}") for i in range(501)])


def test_pagination_continues_a_cut_result_under_the_same_id(sim: Simulator, cw: CloudWatchExtension) -> None:
    cw.max_datapoints_per_call = 4
    cw.put_series(ACCOUNT, "us-east-1", "AWS/Usage", "ResourceCount", DIMS, T0, timedelta(hours=1), range(6))
    cw.put_series(
        ACCOUNT, "us-east-1", "AWS/Usage", "CallCount", {"Service": "EKS"}, T0, timedelta(hours=1), range(3)
    )
    client = sim.session("us-east-1").client("cloudwatch")
    pages = list(
        client.get_paginator("get_metric_data").paginate(
            MetricDataQueries=[stat("m1"), stat("m2", "CallCount", {"Service": "EKS"})],
            StartTime=T0,
            EndTime=T0 + timedelta(hours=24),
        )
    )
    assert len(pages) == 3
    assert pages[0]["MetricDataResults"][0]["StatusCode"] == "PartialData"
    merged: dict[str, list[float]] = {}
    for page in pages:
        for r in page["MetricDataResults"]:
            merged.setdefault(r["Id"], []).extend(r["Values"])
    assert merged == {"m1": [5.0, 4.0, 3.0, 2.0, 1.0, 0.0], "m2": [2.0, 1.0, 0.0]}


def test_a_forbidden_metric_fails_only_its_queries(sim: Simulator, cw: CloudWatchExtension) -> None:
    cw.put(ACCOUNT, "us-east-1", "AWS/Usage", "ResourceCount", DIMS, [(T0, 1.0)])
    cw.put(ACCOUNT, "us-east-1", "AWS/Usage", "CallCount", {"Service": "EKS"}, [(T0, 2.0)])
    cw.query_status[("AWS/Usage", "CallCount")] = ("Forbidden", "not authorized for this metric")
    got = by_id(fetch(sim, [stat("m1"), stat("m2", "CallCount", {"Service": "EKS"})]))
    assert got["m1"]["StatusCode"] == "Complete" and got["m1"]["Values"] == [1.0]
    assert got["m2"]["StatusCode"] == "Forbidden" and got["m2"]["Values"] == []
    assert got["m2"]["Messages"][0]["Value"] == "not authorized for this metric"


def test_bad_queries_name_the_problem(sim: Simulator) -> None:
    with pytest.raises(ClientError, match="Id is invalid"):
        fetch(sim, [stat("M1")])
    with pytest.raises(ClientError, match="Period is invalid"):
        fetch(sim, [stat("m1", period=90)])
    with pytest.raises(ClientError, match="ReturnData"):
        fetch(sim, [stat("m1", ReturnData=False)])


def test_service_quota_in_metric_math_as_aws_publishes_it(sim: Simulator, cw: CloudWatchExtension) -> None:
    from eksmon.sim.service_quotas import ServiceQuotasExtension

    sim.extension(ServiceQuotasExtension).set_applied(ACCOUNT, "us-east-1", "ec2", "L-1216C47A", 400)
    cw.put_series(
        ACCOUNT, "us-east-1", "AWS/Usage", "ResourceCount", DIMS, T0, timedelta(hours=1), [100, 300]
    )
    got = by_id(
        fetch(
            sim,
            [stat("m1", ReturnData=False), {"Id": "e1", "Expression": "m1/SERVICE_QUOTA(m1)*100"}],
            ScanBy="TimestampAscending",
        )
    )
    assert got["e1"]["Values"] == [25.0, 75.0]
