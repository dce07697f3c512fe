"""The scan's I/O layer rides on botocore's documented events and a view of each client, against the simulator.

What a user would notice if it went wrong: a repeated read sent twice, a throttled call given up too
early or retried past its budget, a region whose calls stop because an in-flight slot was never given
back after a broken answer or a dropped connection.
"""

from __future__ import annotations

import gc
import weakref

import botocore.exceptions
import pytest

from eksmon.aws import (
    ApiCallCounter,
    BrokenAnswer,
    Deadline,
    client_config,
    error_code,
    error_operation,
    limit_pages,
    pages,
)
from eksmon.aws_io import AwsAccount, ScanClient, ScanIO
from eksmon.settings import AwsSettings
from eksmon.sim.fleet import DEMO_ACCOUNT
from eksmon.sim.server import Simulator

EAST = "us-east-1"


def account(sim: Simulator, **aws: object) -> AwsAccount:
    settings = AwsSettings.model_validate(aws)
    return AwsAccount(
        DEMO_ACCOUNT,
        sim.session(EAST),
        client_config(settings),
        ApiCallCounter(),
        ScanIO(settings, Deadline(60)),
    )


def test_a_scans_clients_keep_botocores_own_methods_and_no_state_of_the_monitor(demo_sim: Simulator) -> None:
    eks = account(demo_sim).client("eks", EAST)
    assert eks.list_clusters()["clusters"]
    assert isinstance(eks, ScanClient)
    own = vars(eks.client)
    assert "_make_api_call" not in own and not [name for name in own if name.startswith("_eksmon")]


def test_a_repeated_read_is_answered_before_botocore_does_any_work(demo_sim: Simulator) -> None:
    aws = account(demo_sim)
    eks = aws.client("eks", EAST)
    built: list[str] = []
    eks.meta.events.register("before-parameter-build.eks", lambda model, **_: built.append(model.name))
    first = eks.describe_cluster(name="payments-prod")
    assert eks.describe_cluster(name="payments-prod") is first
    assert list(pages(eks, "list_nodegroups", "nodegroups", clusterName="payments-prod"))
    assert list(pages(eks, "list_nodegroups", "nodegroups", clusterName="payments-prod"))
    assert built == ["DescribeCluster", "ListNodegroups"]
    assert (aws.counter.calls["eks.DescribeCluster"], aws.counter.calls["eks.ListNodegroups"]) == (1, 1)
    assert demo_sim.repeats() == {}
    eks.describe_cluster(name="checkout-prod")  # other parameters: a request of its own
    assert aws.counter.calls["eks.DescribeCluster"] == 2


def test_a_call_throttled_past_botocores_attempts_is_retried_within_its_budget(demo_sim: Simulator) -> None:
    aws = account(demo_sim, max_attempts=2)
    demo_sim.fault("eks", operation="GET /clusters", code="ThrottlingException", status=400, times=4)
    assert aws.client("eks", EAST).list_clusters()["clusters"]
    assert len([c for c in demo_sim.calls("eks") if c[2] == "GET /clusters"]) == 5
    assert (aws.counter.calls["eks.ListClusters"], aws.counter.attempts, aws.counter.throttled) == (1, 5, 4)


def test_a_call_throttled_with_no_budget_left_fails_after_botocores_attempts(demo_sim: Simulator) -> None:
    aws = account(demo_sim, max_attempts=2, throttle_budget_seconds=0, critical_throttle_budget_seconds=0)
    demo_sim.fault("eks", operation="GET /clusters", code="ThrottlingException", status=400)
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        aws.client("eks", EAST).list_clusters()
    assert error_code(refused.value) == "ThrottlingException"
    assert len([c for c in demo_sim.calls("eks") if c[2] == "GET /clusters"]) == 2


def test_a_broken_answer_and_a_dropped_connection_give_their_slot_back(demo_sim: Simulator) -> None:
    # one request at a time in the region: a slot kept by a failed call would stop every later one
    aws = account(demo_sim, max_in_flight_per_region=1, max_attempts=1)
    assert aws.io is not None
    eks = aws.client("eks", EAST)
    demo_sim.fault("eks", operation="GET /clusters", kind="truncate", times=1)
    with pytest.raises(BrokenAnswer, match="not valid JSON"):
        eks.list_clusters()
    demo_sim.fault("eks", operation="GET /clusters/payments-prod", kind="drop", times=1)
    with pytest.raises(botocore.exceptions.ConnectionClosedError) as dropped:
        eks.describe_cluster(name="payments-prod")
    assert error_operation(dropped.value) == "DescribeCluster"
    assert aws.io.in_flight == 0
    assert eks.describe_cluster(name="checkout-prod")["cluster"]["name"] == "checkout-prod"
    assert aws.io.peak_in_flight == 1


def test_a_finished_scans_clients_and_their_connections_can_be_freed(demo_sim: Simulator) -> None:
    # a long-lived process (a warm Lambda, the test suite) runs scan after scan: nothing the I/O layer
    # keeps beside a client may hold it, or every scan's connection pools would stay open
    aws = account(demo_sim)
    eks = aws.client("eks", EAST)
    assert list(pages(eks, "list_clusters", "clusters"))
    bare = demo_sim.session(EAST).client("eks")
    limit_pages(bare, 5)
    assert list(pages(bare, "list_clusters", "clusters"))
    gone = [weakref.ref(eks), weakref.ref(eks.client), weakref.ref(bare)]
    del aws, eks, bare
    gc.collect()
    assert [ref() for ref in gone] == [None, None, None]
