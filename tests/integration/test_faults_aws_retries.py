"""AWS faults a scan must absorb or keep to their region, driven through `eksmon scan --format json`.

The same harness as tests/integration/test_faults.py: one fault injected into the simulator, then the exit
code, the findings kept against the calm scan, and one collection error per root cause.
"""

from __future__ import annotations

from eksmon.sim.server import Simulator
from tests.integration import test_faults
from tests.integration.test_faults import EAST, WEST, errors, kept, scan_json, unique_fingerprints

calm = test_faults.calm  # the calm fleet's findings, the reference every fault test compares to


def test_the_caller_identity_is_retried_under_the_throttle_budget(
    demo_sim: Simulator, calm, tmp_path
) -> None:
    # more throttled answers than botocore's attempts: only the throttle budget gets the scan past them
    demo_sim.fault("sts", operation="GetCallerIdentity", code="Throttling", status=400, times=5)
    code, doc, err, elapsed = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert kept(doc) == calm and errors(doc) == [] and unique_fingerprints(doc)
    assert len([c for c in demo_sim.calls("sts") if c[2] == "GetCallerIdentity"]) == 6
    assert elapsed < 20


def test_every_operation_throttled_twice_per_region_loses_nothing(
    demo_sim: Simulator, calm, tmp_path
) -> None:
    for service in ("sts", "eks", "servicequotas", "monitoring"):
        for region in (EAST, WEST):
            demo_sim.fault(service, region=region, code="ThrottlingException", status=400, times=2)
    code, doc, err, _ = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert kept(doc) == calm and errors(doc) == [] and unique_fingerprints(doc)


def test_two_dropped_connections_on_one_call_are_retried(demo_sim: Simulator, calm, tmp_path) -> None:
    operation = "GET /clusters/payments-prod/node-groups"
    demo_sim.fault("eks", operation=operation, kind="drop", times=2)
    code, doc, err, elapsed = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert errors(doc) == [] and kept(doc) == calm and unique_fingerprints(doc)
    assert len([c for c in demo_sim.calls("eks") if c[2] == operation]) == 3  # aws.max_attempts: 3
    assert elapsed < 15


def test_three_dropped_connections_are_one_collection_error(demo_sim: Simulator, calm, tmp_path) -> None:
    operation = "GET /clusters/payments-prod/node-groups"
    demo_sim.fault("eks", operation=operation, kind="drop", times=3)
    code, doc, err, _ = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert errors(doc) == [(EAST, "payments-prod", "source/eks:ListNodegroups", "ConnectionClosedError")]


def test_a_broken_add_on_versions_answer_stays_in_its_region(demo_sim: Simulator, calm, tmp_path) -> None:
    demo_sim.fault("eks", operation="GET /addons/supported-versions", region=WEST, kind="truncate")
    code, doc, err, _ = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    assert errors(doc) == [(WEST, None, "source/eks:DescribeAddonVersions", "BrokenAnswer")]
    # the other region read its own answer: its add-on findings stay
    east_addons = {k for k in calm if k[0] == EAST and k[1] == "version.addon_incompatible"}
    assert east_addons
    west_addons = {k for k in calm if k[0] == WEST and k[1] == "version.addon_incompatible"}
    assert kept(doc) == calm - west_addons
    assert unique_fingerprints(doc)


def test_add_on_versions_are_read_once_per_region_and_add_on(demo_sim: Simulator, calm, tmp_path) -> None:
    code, _doc, err, _ = scan_json(demo_sim, tmp_path)
    assert code == 0, err
    reads = [c for c in demo_sim.calls("eks") if c[2] == "GET /addons/supported-versions"]
    assert {region for _service, region, _op in reads} == {EAST, WEST}
    repeated = {sig: n for sig, n in demo_sim.repeats().items() if "/addons/supported-versions" in sig[4]}
    assert repeated == {}  # each add-on's versions once per account and region, however many clusters
