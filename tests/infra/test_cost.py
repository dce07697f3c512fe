"""`make cost`: the monthly bill computed from the templates and the demo, and the README's copy of it.

Given the two fleets of the issue (10 clusters in one account and region; 100 clusters in 20 accounts x 4
regions, fanned out), when infra.cost synthesizes their templates and scans the simulated demo fleet,
then the bill stays within budget and README.md holds exactly the table `make cost` prints. The
arithmetic rules (proration by the hour, free tiers, dashboard metric counting) are checked on small
hand-made inputs without a synth.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from infra.cost import Estimate, Measured, Scaled, Template

pytestmark = pytest.mark.infra  # infra.cost imports the CDK app (aws_cdk)


@pytest.fixture(scope="module")
def estimates() -> list[Estimate]:
    from infra.cost import compute

    return compute()


def test_the_readme_table_is_what_make_cost_prints(estimates: list[Estimate]) -> None:
    from infra.cost import README, readme_table, render

    assert readme_table(README.read_text(encoding="utf-8")) == render(estimates), (
        "README.md's cost table is stale: run `make cost COST_ARGS=--write-readme`"
    )


def test_ten_clusters_cost_at_most_8_dollars_and_a_hundred_at_most_40_at_list_price(
    estimates: list[Estimate],
) -> None:
    from infra.cost import render

    ten, hundred = estimates
    assert (ten.fleet.clusters, hundred.fleet.clusters) == (10, 100)
    assert ten.total <= 8.00, render(estimates)
    assert hundred.total <= 40.00, render(estimates)
    assert (hundred.total - ten.total) / 90 < 0.40  # each cluster added
    assert all(e.total_free_tier <= e.total for e in estimates)


def test_the_bill_counts_what_the_stack_really_holds(estimates: list[Estimate]) -> None:
    """The dashboard and the KMS key alone are $4; the fan-out fleet adds its state machines."""
    ten, hundred = estimates
    items = {line.item.split(" (")[0]: line for line in ten.lines}
    assert items["CloudWatch dashboard"].list_usd == 3.00 and items["KMS"].list_usd == 1.00
    # two per monitor, dead letters for the daily and 6-hourly ones, no composite
    assert "10 alarms on 10 metrics" in items["CloudWatch alarms"].item
    fanned = {line.item.split(" (")[0]: line for line in hundred.lines}
    assert fanned["Step Functions"].list_usd > 0 and items["Step Functions"].list_usd == 0


# -- the arithmetic, on hand-made inputs ------------------------------------------------------------------
def _template(**schedules: float) -> Template:
    from infra.cost import Template

    return Template(
        alarm_metrics=12,
        alarms=12,
        composite_alarms=1,
        dashboard_metrics=[30],
        kms_keys=1,
        schedules=dict(schedules),
        memory_mb=dict.fromkeys(schedules, 1024),
    )


def _measured(monitor: str, series: Scaled, requested: Scaled) -> Measured:
    from infra.cost import Measured

    return Measured(series={monitor: series}, requested={monitor: requested})


def test_a_series_costs_for_the_hours_it_receives_data() -> None:
    from infra.cost import FLEETS, Scaled, estimate

    fleet = FLEETS[0]
    hourly = estimate(fleet, _template(metrics=3600), _measured("metrics", Scaled(fixed=10), Scaled()))
    daily = estimate(fleet, _template(metrics=86_400), _measured("metrics", Scaled(fixed=10), Scaled()))
    quarter = estimate(fleet, _template(metrics=900), _measured("metrics", Scaled(fixed=10), Scaled()))
    assert hourly.lines[0].list_usd == pytest.approx(3.00)  # 10 series x $0.30, every hour of the month
    assert quarter.lines[0].list_usd == pytest.approx(3.00)  # more often within the hour costs nothing more
    assert daily.lines[0].list_usd == pytest.approx(3.00 / 24)
    assert hourly.lines[0].free_tier_usd == 0.0  # the first 10 metrics are free


def test_get_metric_data_is_per_metric_requested_and_per_run() -> None:
    from infra.cost import FLEETS, Scaled, estimate

    fleet = FLEETS[0]  # 10 clusters, 1 account+region
    per_cluster = _measured("metrics", Scaled(), Scaled(per_cluster=12, per_region=1))
    hourly = estimate(fleet, _template(metrics=3600), per_cluster)
    quarter = estimate(fleet, _template(metrics=900), per_cluster)
    assert hourly.lines[1].list_usd == pytest.approx((12 * 10 + 1) * 730 / 1000 * 0.01)
    assert quarter.lines[1].list_usd == pytest.approx(4 * hourly.lines[1].list_usd)


def test_alarms_and_composites_are_priced_with_and_without_the_free_tier() -> None:
    from infra.cost import FLEETS, Scaled, estimate

    e = estimate(FLEETS[0], _template(metrics=3600), _measured("metrics", Scaled(), Scaled()))
    alarms = e.lines[2]
    assert alarms.list_usd == pytest.approx(12 * 0.10 + 0.50)
    assert alarms.free_tier_usd == pytest.approx(2 * 0.10 + 0.50)  # 10 alarm metrics free, composites never


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 hour)", 3600),
        ("rate(15 minutes)", 900),
        ("rate(2 days)", 172_800),
        ("cron(0 6 * * ? *)", 86_400),
    ],
)
def test_schedule_seconds(expression: str, seconds: float) -> None:
    from infra.cost import schedule_seconds

    assert schedule_seconds(expression) == seconds


def test_a_dashboard_counts_metric_rows_and_searches_not_expressions_of_them() -> None:
    from infra.cost import dashboard_metric_count

    body: dict[str, Any] = {
        "widgets": [
            {
                "properties": {
                    "metrics": [["AWS/EKS", "m", "ClusterName", "a"], ["AWS/EKS", "n", "ClusterName", "a"]]
                }
            },
            {
                "properties": {
                    "metrics": [[{"expression": "SEARCH('{AWS/EKS,ClusterName} x', 'Maximum', 300)"}]]
                }
            },
            {"properties": {"metrics": [[{"expression": "100 * u / SERVICE_QUOTA(u)"}], ["AWS/Usage", "u"]]}},
            {"properties": {"markdown": "# title"}},
        ]
    }
    assert dashboard_metric_count(json.dumps(body)) == 4
    before, after = json.dumps(body).split('"a"', 1)  # a token inside a value, as a region would be
    joined = {"Fn::Join": ["", [before + '"', {"Ref": "AWS::Region"}, '"' + after]]}
    assert dashboard_metric_count(joined) == 4  # tokens in the body do not matter
