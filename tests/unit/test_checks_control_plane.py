"""The Provisioned Control Plane checks as pure functions: tiers, capacity, right-sizing, APF, break-glass."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eksmon.checks.apiserver_flowcontrol_rejections import (
    FlowcontrolRejectionsThresholds,
    apiserver_flowcontrol_rejections,
)
from eksmon.checks.auth_break_glass import BreakGlassThresholds, auth_break_glass
from eksmon.checks.control_plane_capacity import ControlPlaneCapacityThresholds, control_plane_capacity
from eksmon.checks.control_plane_tier_oversized import TierOversizedThresholds, control_plane_tier_oversized
from eksmon.checks.etcd_db_growth import EtcdDbGrowthThresholds, etcd_db_growth
from eksmon.checks.etcd_db_size import EtcdDbSizeThresholds, etcd_db_size, etcd_size_points
from eksmon.collectors.access_entries import AccessEntries, AccessEntry, AssociatedPolicy
from eksmon.collectors.apf_baseline import ApfBaseline, counter_key
from eksmon.collectors.apiserver_scrape import ApfRejection, ReplicaSample
from eksmon.collectors.control_plane_metrics import (
    SCHEDULED,
    SEATS,
    ClusterSeries,
    ControlPlaneCloudWatch,
    Series,
)
from eksmon.collectors.eks import VersionCalendar
from eksmon.errors import ConfigError
from eksmon.models import Problem, Severity, Unevaluated
from eksmon.settings import parse_settings
from eksmon.tiers import TierCapacity, capacity_from_api, tier_name
from eksmon.versions import BUNDLED_CALENDAR
from tests.unit.metrics_builders import GIB, NAME, NOW, scraped, series, snapshot

CAP = ControlPlaneCapacityThresholds()
FIT = TierOversizedThresholds()
SIZE = "etcd_mvcc_db_total_size_in_use_in_bytes"


def cw(
    *window: Series, size: Series | None = None, peaks: dict[str, Series] | None = None
) -> ControlPlaneCloudWatch:
    cluster = ClusterSeries(NAME, {s.metric: s for s in window}, size, peaks or {})
    return ControlPlaneCloudWatch(NOW, NOW - timedelta(minutes=15), NOW - timedelta(days=14), {NAME: cluster})


def load(seats: float, pods_per_second: float = 0.0):
    """A 15-minute window whose busiest minute has these peaks."""
    return (
        series(SEATS, [seats * 0.5] * 14 + [seats], stat="Maximum"),
        series(SCHEDULED, [pods_per_second * 60] + [0] * 14),
    )


def capacity(tier: str = "standard", *window: Series, **info) -> list[Problem | Unevaluated]:
    return list(control_plane_capacity(snapshot(cw(*window), tier=tier, **info), CAP, NOW))


# -- tiers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("config", [None, {}, {"tier": None}, {"tier": ""}])
def test_an_absent_or_empty_scaling_config_is_standard(config) -> None:
    assert tier_name(config) == "standard"


def test_api_capacities_win_over_the_published_table() -> None:
    api = capacity_from_api(
        {
            "tierName": "tier-xl",
            "apiRequestConcurrency": 2000,
            "podSchedulingRatePerSecond": 200,
            "clusterDatabaseSizeGb": 24,
        }
    )
    assert api == TierCapacity("tier-xl", 2000, 200.0, 24 * GIB)
    region_snap = snapshot(cw(*load(1700)), tier="tier-xl")
    region_snap.region_snapshot.parts[VersionCalendar] = VersionCalendar(
        dict(BUNDLED_CALENDAR), "eks:DescribeClusterVersions", {"1.34": (api,)}
    )
    (p,) = control_plane_capacity(region_snap, CAP, NOW)  # 1,700 of 2,000 = 85 %, not 100 %
    assert isinstance(p, Problem) and p.severity is Severity.WARNING and p.details["seats_capacity"] == 2000


# -- control_plane.capacity -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seats", "severity"),
    [(1359, None), (1360, Severity.WARNING), (1614, Severity.WARNING), (1615, Severity.CRITICAL)],
)
def test_capacity_at_80_and_95_percent_of_the_tiers_seats(seats, severity) -> None:
    found = capacity("tier-xl", *load(seats))  # tier-xl: 1,700 seats; 80 % = 1,360, 95 % = 1,615
    assert [p.severity for p in found] == ([severity] if severity else [])
    if found:
        assert found[0].details["tier"] == "tier-xl" and found[0].details["seats_peak"] == seats


@pytest.mark.parametrize(
    ("pods", "severity"), [(133.0, None), (133.6, Severity.WARNING), (158.7, Severity.CRITICAL)]
)
def test_capacity_at_80_and_95_percent_of_the_tiers_scheduling_rate(pods, severity) -> None:
    found = capacity("tier-xl", *load(100, pods))  # tier-xl: 167 pods/s
    assert [p.severity for p in found] == ([severity] if severity else [])


def test_scheduling_capacity_is_100_pods_per_second_before_kubernetes_1_30() -> None:
    (p,) = capacity("tier-4xl", *load(100, 90), version="1.29")
    assert p.severity is Severity.WARNING and p.details["scheduling_capacity_per_second"] == 100.0


def test_a_standard_cluster_gets_an_info_hint_naming_the_tier_that_covers_its_peak() -> None:
    assert capacity("standard", *load(1199, 99)) == []
    (p,) = capacity("standard", *load(1850))
    assert p.severity is Severity.INFO and p.details["suggested_tier"] == "tier-2xl"
    assert "tier-2xl" in p.message and p.details["seats_capacity"] is None
    (pods,) = capacity("standard", *load(300, 120))
    assert pods.details["suggested_tier"] == "tier-xl"


def test_tier_absent_is_judged_as_standard() -> None:
    (p,) = capacity("standard", *load(1300))  # a 1,300-seat peak is 76 % of tier-xl, but standard: info
    assert p.severity is Severity.INFO


def test_an_unknown_tier_is_an_info_not_a_crash() -> None:
    (p,) = capacity("tier-16xl", *load(99999))
    assert p.severity is Severity.INFO and "tier-16xl" in p.message and p.details == {"tier": "tier-16xl"}


def test_capacity_without_seats_series_is_unevaluated() -> None:
    (p,) = capacity("tier-xl")
    assert isinstance(p, Unevaluated) and SEATS in p.reason


# -- control_plane.tier_oversized -------------------------------------------------------------------
def hourly(metric: str, peak: float, days: float = 14) -> Series:
    n = int(days * 24)
    return series(metric, [peak * 0.7] * (n - 1) + [peak], step=timedelta(hours=1), stat="Maximum")


def oversized(tier: str, seats: float, pods: float, db: float | None, days: float = 14, t=FIT):
    size = series(SIZE, [db], stat="Maximum") if db is not None else None
    peaks = {SEATS: hourly(SEATS, seats, days), SCHEDULED: hourly(SCHEDULED, pods * 60, days)}
    return list(control_plane_tier_oversized(snapshot(cw(size=size, peaks=peaks), tier=tier), t, NOW))


def test_a_tier_2xl_whose_peaks_fit_tier_xl_says_so_with_the_saving() -> None:
    (p,) = oversized("tier-2xl", seats=1020, pods=100, db=6 * GIB)  # 60 % of 1,700 and of 167; db > 4.8 GiB
    assert p.severity is Severity.WARNING
    assert p.details["suggested_tier"] == "tier-xl"
    assert p.details["savings_per_month_usd"] == pytest.approx((3.40 - 1.65) * 730)
    assert "$1,277.50 a month" in p.message and p.details["lookback_days"] == 14


def test_just_over_60_percent_of_the_cheaper_tier_is_not_a_fit() -> None:
    assert oversized("tier-2xl", seats=1021, pods=50, db=6 * GIB) == []
    assert oversized("tier-2xl", seats=500, pods=100.3, db=6 * GIB) == []


def test_standard_counts_as_cheaper_when_the_database_is_below_60_percent_of_8_gib() -> None:
    (p,) = oversized("tier-xl", seats=1200, pods=100, db=4.7 * GIB)
    assert p.details["suggested_tier"] == "standard"
    assert p.details["savings_per_month_usd"] == pytest.approx(1.65 * 730)
    assert "cannot go back to standard" in p.remediation
    # at 60 % of 8 GiB, or 1,201 seats, standard does not fit and tier-xl is the cheapest: nothing
    assert oversized("tier-xl", seats=1200, pods=100, db=4.8 * GIB) == []
    assert oversized("tier-xl", seats=1201, pods=10, db=1 * GIB) == []
    # an unknown database size never suggests standard
    assert oversized("tier-xl", seats=100, pods=1, db=None) == []


def test_the_cheapest_fitting_tier_is_suggested_at_the_configured_prices() -> None:
    (p,) = oversized("tier-8xl", seats=1000, pods=50, db=9 * GIB)
    assert p.details["suggested_tier"] == "tier-xl"
    t = TierOversizedThresholds(tier_prices_usd_per_hour={"tier-xl": 20.0})
    (q,) = oversized("tier-8xl", seats=1000, pods=50, db=9 * GIB, t=t)
    assert q.details["suggested_tier"] == "tier-2xl"
    assert q.details["savings_per_month_usd"] == pytest.approx((13.90 - 3.40) * 730)


def test_a_standard_cluster_or_too_little_history_raises_nothing() -> None:
    assert oversized("standard", seats=10, pods=1, db=GIB) == []
    (p,) = oversized("tier-2xl", seats=10, pods=1, db=GIB, days=3)
    assert isinstance(p, Unevaluated) and "3.0 days" in p.reason


def test_tier_prices_name_known_tiers() -> None:
    with pytest.raises(ConfigError, match=r"tier_prices_usd_per_hour.*tier-3xl"):
        parse_settings(
            {
                "checks": {
                    "thresholds": {
                        "control_plane.tier_oversized": {"tier_prices_usd_per_hour": {"tier-3xl": 2.0}}
                    }
                }
            }
        )


# -- etcd against the cluster's own limit -----------------------------------------------------------
def etcd(bytes_: float, tier: str):
    size = series(SIZE, [bytes_], stat="Maximum", step=timedelta(minutes=5), end=NOW)
    return list(etcd_db_size(snapshot(cw(size=size), scraped(), tier=tier), EtcdDbSizeThresholds(), NOW))


def test_a_tier_xl_cluster_at_9_gib_raises_nothing() -> None:
    assert etcd(9 * GIB, "tier-xl") == []
    (standard,) = etcd(9 * GIB, "standard")
    assert standard.severity is Severity.CRITICAL


def test_etcd_limit_is_the_tiers_database_size() -> None:
    (p,) = etcd(15.5 * GIB, "tier-xl")
    assert p.severity is Severity.CRITICAL
    assert p.details["limit_bytes"] == 16 * GIB and p.details["tier"] == "tier-xl"
    assert p.details["percent"] == pytest.approx(96.88)
    (w,) = etcd(7 * GIB, "standard")
    assert w.details["limit_bytes"] == 8589934592 and w.severity is Severity.WARNING


def test_etcd_percent_metric_is_of_the_clusters_own_limit() -> None:
    size = series(SIZE, [8 * GIB], stat="Maximum", step=timedelta(minutes=5))
    points = {p.name: p.value for p in etcd_size_points(snapshot(cw(size=size), tier="tier-2xl"), NOW)}
    assert points["EtcdDatabaseSizePercent"] == 50.0


def test_etcd_growth_counts_down_to_the_tiers_limit() -> None:
    step = timedelta(minutes=5)
    values = [9 * GIB + i * (0.25 * GIB / 288) for i in range(288)]  # +0.25 GiB/day: 16 GiB in ~27 days
    size = series(SIZE, values, step=step, stat="Maximum")
    assert list(etcd_db_growth(snapshot(cw(size=size), tier="tier-xl"), EtcdDbGrowthThresholds(), NOW)) == []
    (p,) = etcd_db_growth(snapshot(cw(size=size), tier="standard"), EtcdDbGrowthThresholds(), NOW)
    assert p.severity is Severity.CRITICAL  # already past 8 GiB
    (fast,) = etcd_db_growth(  # 2 GiB/day from 9 GiB: 16 GiB in ~3 days
        snapshot(
            cw(
                size=series(
                    SIZE, [9 * GIB + i * (2 * GIB / 288) for i in range(288)], step=step, stat="Maximum"
                )
            ),
            tier="tier-xl",
        ),
        EtcdDbGrowthThresholds(),
        NOW,
    )
    assert fast.severity is Severity.WARNING and fast.details["limit_bytes"] == 16 * GIB


# -- apiserver.flowcontrol_rejections ---------------------------------------------------------------
def apf(*rejections: ApfRejection, started: float = 1.7e9) -> list[Problem]:
    sample = ReplicaSample(started, None, None, None, apf_rejections=rejections)
    snap = snapshot(None, scraped(sample))
    return list(apiserver_flowcontrol_rejections(snap, FlowcontrolRejectionsThresholds(), NOW))


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("system", Severity.CRITICAL),
        ("leader-election", Severity.CRITICAL),
        ("node-high", Severity.CRITICAL),
        ("workload-low", Severity.WARNING),
        ("global-default", Severity.WARNING),
    ],
)
def test_priority_level_severities(level, severity) -> None:
    (p,) = apf(ApfRejection(level, "some-schema", "queue-full", 12))
    assert p.severity is severity and p.resource == f"priority-level/{level}"
    assert p.details["rejected"] == 12 and "since the apiserver replicas started" in p.message


def test_one_finding_per_priority_level_with_its_schemas_and_reasons() -> None:
    found = apf(
        ApfRejection("leader-election", "system-leader-election", "queue-full", 5),
        ApfRejection("leader-election", "kube-controller-manager", "time-out", 2),
        ApfRejection("workload-low", "service-accounts", "concurrency-limit", 40),
    )
    by_level = {p.details["priority_level"]: p for p in found}
    assert set(by_level) == {"leader-election", "workload-low"}
    le = by_level["leader-election"]
    assert le.details["rejected"] == 7 and le.details["reasons"] == {"queue-full": 5, "time-out": 2}
    assert le.details["flow_schemas"] == ["kube-controller-manager", "system-leader-election"]


def test_no_drops_raise_nothing() -> None:
    assert apf() == []


# -- auth.break_glass -------------------------------------------------------------------------------
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


def glass(mode: str, *entries: AccessEntry) -> list[Problem]:
    snap = snapshot(authentication_mode=mode)
    snap.parts[AccessEntries] = AccessEntries(tuple(entries))
    return list(auth_break_glass(snap, BreakGlassThresholds(), NOW))


def entry(arn: str, policy: str, scope: str = "cluster") -> AccessEntry:
    namespaces = ("team-a",) if scope == "namespace" else ()
    return AccessEntry(arn, (AssociatedPolicy(policy, scope, namespaces),))


def test_an_api_cluster_with_a_cluster_scoped_admin_entry_is_fine() -> None:
    assert glass("API", entry("arn:aws:iam::1:role/admin", ADMIN)) == []
    assert glass("API_AND_CONFIG_MAP", entry("arn:aws:iam::1:role/admin", ADMIN)) == []


def test_a_break_glass_entry_at_namespace_scope_does_not_count() -> None:
    (p,) = glass("API", entry("arn:aws:iam::1:role/admin", ADMIN, scope="namespace"))
    assert p.severity is Severity.WARNING
    assert p.details["admin_entries"] == []
    assert p.details["namespace_scoped_admin_entries"] == ["arn:aws:iam::1:role/admin"]
    assert "namespace scope" in p.message


def test_no_admin_entry_at_all_warns_and_config_map_clusters_are_left_to_config_map_only() -> None:
    (p,) = glass("API", entry("arn:aws:iam::1:role/viewer", VIEW))
    assert p.details["authentication_mode"] == "API"
    assert glass("CONFIG_MAP") == []


def test_the_message_counts_every_entry_of_the_cluster_not_only_the_admin_policy_ones() -> None:
    snap = snapshot(authentication_mode="API_AND_CONFIG_MAP")
    namespaced = entry("arn:aws:iam::1:role/team-admin", ADMIN, scope="namespace")
    snap.parts[AccessEntries] = AccessEntries((namespaced,), total=14)
    (p,) = auth_break_glass(snap, BreakGlassThresholds(), NOW)
    assert "none of its 14 access entries is associated" in p.message
    assert "aws-auth ConfigMap is broken" in p.message
    assert p.details["access_entries"] == 14
    assert p.details["namespace_scoped_admin_entries"] == ["arn:aws:iam::1:role/team-admin"]
    snap.parts[AccessEntries] = AccessEntries((), total=0)
    (p,) = auth_break_glass(snap, BreakGlassThresholds(), NOW)
    assert "it has no access entry at all" in p.message and p.details["access_entries"] == 0


def test_only_the_configured_admin_policies_count_and_are_what_the_collectors_are_asked_for() -> None:
    edit_admin = entry(
        "arn:aws:iam::1:role/ops", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy"
    )
    strict = BreakGlassThresholds(admin_policies=["AmazonEKSClusterAdminPolicy"])
    snap = snapshot(authentication_mode="API")
    snap.parts[AccessEntries] = AccessEntries((edit_admin,), total=1)
    assert list(auth_break_glass(snap, BreakGlassThresholds(), NOW)) == []
    (p,) = auth_break_glass(snap, strict, NOW)
    assert "associated with AmazonEKSClusterAdminPolicy at cluster scope" in p.message
    assert strict.collection_needs().admin_access_policies == (ADMIN,)
    both = BreakGlassThresholds().collection_needs().merge(strict.collection_needs())
    assert both.admin_access_policies == (
        ADMIN,
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
    )


def apf_with_baseline(baseline, *replicas: ReplicaSample) -> list[Problem]:
    snap = snapshot(None, scraped(*replicas))
    snap.parts[ApfBaseline] = baseline
    return list(apiserver_flowcontrol_rejections(snap, FlowcontrolRejectionsThresholds(), NOW))


def test_deployed_counts_are_the_increase_since_the_previous_scan() -> None:
    before = ApfBaseline(
        {counter_key(1.7e9, "leader-election", "system-leader-election", "queue-full"): 30.0},
        NOW - timedelta(minutes=15),
    )
    now = ReplicaSample(
        1.7e9,
        None,
        None,
        None,
        apf_rejections=(ApfRejection("leader-election", "system-leader-election", "queue-full", 37),),
    )
    (p,) = apf_with_baseline(before, now)
    assert p.details["rejected"] == 7 and p.details["counted_since"] == "previous_scan"
    assert "since the previous scan at 2026-11-26T11:45:00Z" in p.message
    # no new drops since the previous scan: nothing to report (the finding resolves)
    same = ApfBaseline(
        {
            **before.values,
            counter_key(1.7e9, "leader-election", "system-leader-election", "queue-full"): 37.0,
        },
        before.at,
    )
    assert apf_with_baseline(same, now) == []


def test_a_replica_the_previous_scan_did_not_see_counts_from_its_start() -> None:
    before = ApfBaseline({counter_key(1.7e9, "workload-low", "s", "queue-full"): 1.0}, NOW)
    restarted = ReplicaSample(
        1.8e9,
        None,
        None,
        None,
        apf_rejections=(ApfRejection("leader-election", "system-leader-election", "queue-full", 5),),
    )
    (p,) = apf_with_baseline(before, restarted)
    assert p.details["rejected"] == 5 and p.details["counted_since"] == "apiserver_start"
    assert "not sampled before counts from its start" in p.message


# -- control_plane.tier_oversized never suggests what the user guide forbids ----------------------------
def oversized_with_hpa(period: str | None, tier: str = "tier-xl", seats: float = 1200, db: float = 4.7 * GIB):
    size = series(SIZE, [db], stat="Maximum")
    peaks = {SEATS: hourly(SEATS, seats), SCHEDULED: hourly(SCHEDULED, 100 * 60)}
    snap = snapshot(cw(size=size, peaks=peaks), tier=tier, hpa_sync_period=period)
    return list(control_plane_tier_oversized(snap, FIT, NOW))


@pytest.mark.parametrize("period", ["10s", "12s", "0.5m", "soon"])
def test_a_customised_hpa_sync_period_never_suggests_standard(period: str) -> None:
    # standard would fit these peaks, but the cluster cannot leave Provisioned mode: tier-xl is the
    # cheapest tier it may go to, and it is already there
    assert oversized_with_hpa(period) == []


@pytest.mark.parametrize("period", [None, "", "15s", "15", "0m15s"])
def test_the_default_hpa_sync_period_still_allows_standard(period: str | None) -> None:  # the near-miss
    (p,) = oversized_with_hpa(period)
    assert p.details["suggested_tier"] == "standard" and p.details["standard_excluded"] is None


def test_with_a_customised_period_the_cheapest_provisioned_fit_is_suggested_and_standard_explained() -> None:
    (p,) = oversized_with_hpa("10s", tier="tier-4xl", seats=1000)
    assert p.details["suggested_tier"] == "tier-xl"
    assert "horizontalPodAutoscalerSyncPeriod is 10s" in p.details["standard_excluded"]
    assert "set back to 15s" in p.remediation and "cannot go back to standard" not in p.remediation


def test_the_hpa_sync_period_is_read_from_describe_cluster() -> None:
    from eksmon.collectors.eks import _hpa_sync_period

    doc = {"horizontalPodAutoscalerControllerConfig": {"horizontalPodAutoscalerSyncPeriod": "10s"}}
    assert _hpa_sync_period(doc) == "10s"
    assert _hpa_sync_period({}) is None and _hpa_sync_period(None) is None
    assert _hpa_sync_period({"horizontalPodAutoscalerControllerConfig": None}) is None
