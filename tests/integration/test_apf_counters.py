"""apiserver.flowcontrol_rejections over successive deployed runs: the counts are the increase since the
previous run (kept in the findings table), not since the apiserver started -- and the first run says so."""

from __future__ import annotations

from datetime import timedelta

from eksmon.context import Services
from eksmon.counters import CounterStore
from eksmon.engine import ScanResult, scan
from eksmon.models import Finding
from eksmon.settings import parse_settings
from eksmon.sim.control_plane_metrics import ApfSeed, apiserver_metrics, relabel
from eksmon.sim.eks import EksExtension
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_NOW, DemoCluster
from eksmon.sim.kubernetes_api import KubeCluster, KubernetesApi
from eksmon.sim.server import Simulator
from tests.integration.alerting_env import TABLE, make_inbox

REGION = "us-east-1"
CHECK = "apiserver.flowcontrol_rejections"
STARTED = (DEMO_NOW - timedelta(days=3)).timestamp()


def cluster(sim: Simulator) -> KubeCluster:
    sim.extension(EksExtension).add_cluster(DemoCluster("prod", REGION, "1.35"), DEMO_ACCOUNT)
    return sim.extension(KubernetesApi).cluster(DEMO_ACCOUNT, REGION, "prod", "1.35")


def drops(kube: KubeCluster, count: int) -> None:
    seed = ApfSeed("leader-election", "system-leader-election", "queue-full", count)
    kube.set_metrics(apiserver_metrics("1.35", started_at=STARTED, apf_rejections=(seed,)))


def run(sim: Simulator, minutes: int) -> ScanResult:
    now = DEMO_NOW + timedelta(minutes=minutes)
    store = CounterStore(sim.session(REGION).client("dynamodb"), TABLE, now)
    return scan(
        parse_settings({"regions": [REGION]}),
        now,
        patterns=(CHECK,),
        session_factory=sim.session_factory(),
        services=Services(counters=store),
    )


def test_counts_are_the_increase_since_the_previous_run(sim: Simulator) -> None:
    kube = cluster(sim)
    make_inbox(sim)
    drops(kube, 37)
    (first,) = [f for f in run(sim, 0).findings if f.check == CHECK]
    assert first.details["rejected"] == 37 and first.details["counted_since"] == "apiserver_start"
    assert "since the apiserver replicas started" in first.message
    drops(kube, 45)
    (second,) = [f for f in run(sim, 15).findings if f.check == CHECK]
    assert second.details["rejected"] == 8 and second.details["counted_since"] == "previous_scan"
    assert "since the previous scan at 2026-11-26T12:00:00Z" in second.message
    assert second.severity is first.severity and second.fingerprint == first.fingerprint
    # no drop since: nothing to report, so the finding resolves
    assert [f for f in run(sim, 30).findings if f.check == CHECK] == []


def test_the_deployed_runner_keeps_the_counters_in_the_findings_table(sim: Simulator) -> None:
    kube = cluster(sim)
    inbox = make_inbox(sim)
    drops(kube, 37)
    inbox.run(DEMO_NOW, monitor="metrics")
    keys = {item["fingerprint"] for item in inbox.items()}
    assert f"counters#apf#{DEMO_ACCOUNT}#{REGION}#prod" in keys


def test_a_rerun_of_the_same_instant_reports_the_same(sim: Simulator) -> None:
    kube = cluster(sim)
    make_inbox(sim)
    drops(kube, 37)
    first = [f.details for f in run(sim, 0).findings if f.check == CHECK]
    again = [f.details for f in run(sim, 0).findings if f.check == CHECK]  # the demo's second pass
    assert first == again and first[0]["counted_since"] == "apiserver_start"
    drops(kube, 40)
    run(sim, 15)
    (replay,) = [f for f in run(sim, 15).findings if f.check == CHECK]
    assert replay.details["rejected"] == 3 and replay.details["counted_since"] == "previous_scan"


SATURATION = "apiserver.flowcontrol_saturation"
SEATS = "apiserver_flowcontrol_priority_level_seat_utilization"


def calm_hour_after(body: bytes, level: str) -> bytes:
    """The same replica an hour on: its level observed for as long again, all of it below 90 %."""
    lines = body.decode().splitlines()
    wanted = f'phase="executing",priority_level="{level}"'
    [count] = [float(x.rsplit(" ", 1)[1]) for x in lines if x.startswith(SEATS + "_count{") and wanted in x]
    for i, line in enumerate(lines):
        if line.startswith(SEATS) and wanted in line:
            lines[i] = relabel(line, value=float(line.rsplit(" ", 1)[1]) + count)
    return ("\n".join(lines) + "\n").encode()


def saturation_scan(sim: Simulator, minutes: int) -> list[Finding]:
    now = DEMO_NOW + timedelta(minutes=minutes)
    store = CounterStore(sim.session(REGION).client("dynamodb"), TABLE, now)
    result = scan(
        parse_settings({"regions": [REGION]}),
        now,
        patterns=(SATURATION,),
        session_factory=sim.session_factory(),
        services=Services(counters=store),
    )
    return [f for f in result.findings if f.check == SATURATION]


def test_saturation_is_judged_over_the_time_since_the_previous_run(sim: Simulator) -> None:
    kube = cluster(sim)
    make_inbox(sim)
    # since the replica started, leader-election spent 3 % of its time above 90 % of its seats
    body = apiserver_metrics("1.35", started_at=STARTED, seat_saturation={"leader-election": 0.03})
    kube.set_metrics(body)
    [first] = saturation_scan(sim, 0)
    assert first.details["counted_since"] == "replica_start" and first.severity.value == "critical"
    # an hour on, all of the new time below 90 %: 1.5 % since the start (still critical), 0 % since the
    # previous run, which is what a deployed monitor judges
    kube.set_metrics(calm_hour_after(body, "leader-election"))
    assert saturation_scan(sim, 60) == []
