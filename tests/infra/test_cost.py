"""`make cost`: the monthly bill computed from the templates and the demo, and the README's copy of it.

Given the two fleets of the issue (10 clusters in one account and region; 100 clusters in 20 accounts x 4
regions, fanned out) deployed with cdk.json's configuration, when tools.cost synthesizes their templates
and scans the simulated demo fleet, then the bill stays within budget, README.md holds exactly the table
`make cost` prints, and a change to cdk.json changes the bill. The
arithmetic rules (proration by the hour, free tiers, dashboard metric counting) are checked on small
hand-made inputs without a synth.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.infra.support import REPO

if TYPE_CHECKING:
    from tools.cost import Estimate, Measured, Scaled, Template

pytestmark = pytest.mark.infra  # tools.cost synthesizes the CDK app (aws_cdk)


@pytest.fixture(scope="module")
def measured() -> Measured:
    from eksmon.registry import load
    from infra.monitors import plan_monitors
    from tools.cost import measure

    return measure([p.monitor for p in plan_monitors(load())])


@pytest.fixture(scope="module")
def estimates(measured: Measured) -> list[Estimate]:
    from tools.cost import compute

    return compute(measured=measured)


def _items(estimate: Estimate) -> dict[str, Any]:
    return {line.item.split(" (")[0]: line for line in estimate.lines}


def test_make_cost_prices_the_configuration_in_cdk_json(
    estimates: list[Estimate], measured: Measured, tmp_path: Path
) -> None:
    """Given cdk.json with the metrics monitor every 15 minutes and an e-mail subscribed, when make cost
    prices it, then GetMetricData costs four times as much and the subscription's dead-letter alarm is
    billed: the table is what that deployment pays."""
    from tools.cost import CDK_JSON, compute, render

    shipped = json.loads(CDK_JSON.read_text(encoding="utf-8"))
    changed = json.loads(json.dumps(shipped))
    changed["context"]["eksmon"] = {
        **shipped["context"]["eksmon"],
        "schedules": {"metrics": "rate(15 minutes)"},
        "notifications": {"emails": ["ops@example.com"]},
    }
    (tmp_path / "cdk.json").write_text(json.dumps(changed), encoding="utf-8")
    priced = compute(tmp_path / "cdk.json", measured=measured)
    ten = priced[0]
    before, after = _items(estimates[0]), _items(ten)
    assert after["CloudWatch GetMetricData"].list_usd == pytest.approx(
        4 * before["CloudWatch GetMetricData"].list_usd, rel=0.01
    )
    assert after["CloudWatch alarms"].list_usd > before["CloudWatch alarms"].list_usd  # undelivered mail
    assert ten.total > estimates[0].total
    assert "metrics `rate(15 minutes)`" in render(priced)


def test_the_shipped_configuration_is_priced_with_the_documented_schedules(estimates: list[Estimate]) -> None:
    from eksmon.settings import Schedules

    documented = Schedules()
    assert dict(estimates[0].schedules) == {m: getattr(documented, m) for m, _ in estimates[0].schedules}


def test_the_readme_is_written_only_with_write_readme(
    estimates: list[Estimate],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import tools.cost as cost

    readme = tmp_path / "README.md"
    stale = f"intro\n{cost.BEGIN}\n| old |\n{cost.END}\nrest\n"
    readme.write_text(stale, encoding="utf-8")
    monkeypatch.setattr(cost, "README", readme)
    monkeypatch.setattr(cost, "compute", lambda _path: estimates)
    assert cost.main([]) == 0
    assert readme.read_text(encoding="utf-8") == stale
    assert cost.render(estimates) in capsys.readouterr().out
    assert cost.main(["--write-readme"]) == 0
    assert cost.readme_table(readme.read_text(encoding="utf-8")) == cost.render(estimates)
    assert readme.read_text(encoding="utf-8").endswith("rest\n")


def test_importing_the_tool_changes_nothing_and_writes_only_when_asked() -> None:
    code = (
        "import os, sys; before = (os.environ['PATH'], set(sys.modules)); import tools.cost; "
        "assert os.environ['PATH'] == before[0]; "
        "assert not [m for m in set(sys.modules) - before[1] if m.startswith(('aws_cdk', 'jsii', 'infra'))]"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_readme_table_is_what_make_cost_prints(estimates: list[Estimate]) -> None:
    from tools.cost import README, readme_table, render

    assert readme_table(README.read_text(encoding="utf-8")) == render(estimates), (
        "README.md's cost table is stale: run `make cost COST_ARGS=--write-readme`"
    )


def test_ten_clusters_cost_at_most_8_dollars_and_a_hundred_at_most_40_at_list_price(
    estimates: list[Estimate],
) -> None:
    from tools.cost import render

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
    from tools.cost import Template

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
    from tools.cost import Measured

    return Measured(series={monitor: series}, requested={monitor: requested})


def test_a_series_costs_for_the_hours_it_receives_data() -> None:
    from tools.cost import FLEETS, Scaled, estimate

    fleet = FLEETS[0]
    hourly = estimate(fleet, _template(metrics=3600), _measured("metrics", Scaled(fixed=10), Scaled()))
    daily = estimate(fleet, _template(metrics=86_400), _measured("metrics", Scaled(fixed=10), Scaled()))
    quarter = estimate(fleet, _template(metrics=900), _measured("metrics", Scaled(fixed=10), Scaled()))
    assert hourly.lines[0].list_usd == pytest.approx(3.00)  # 10 series x $0.30, every hour of the month
    assert quarter.lines[0].list_usd == pytest.approx(3.00)  # more often within the hour costs nothing more
    assert daily.lines[0].list_usd == pytest.approx(3.00 / 24)
    assert hourly.lines[0].free_tier_usd == 0.0  # the first 10 metrics are free


def test_get_metric_data_is_per_metric_requested_and_per_run() -> None:
    from tools.cost import FLEETS, Scaled, estimate

    fleet = FLEETS[0]  # 10 clusters, 1 account+region
    per_cluster = _measured("metrics", Scaled(), Scaled(per_cluster=12, per_region=1))
    hourly = estimate(fleet, _template(metrics=3600), per_cluster)
    quarter = estimate(fleet, _template(metrics=900), per_cluster)
    assert hourly.lines[1].list_usd == pytest.approx((12 * 10 + 1) * 730 / 1000 * 0.01)
    assert quarter.lines[1].list_usd == pytest.approx(4 * hourly.lines[1].list_usd)


def test_alarms_and_composites_are_priced_with_and_without_the_free_tier() -> None:
    from tools.cost import FLEETS, Scaled, estimate

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
    from tools.cost import schedule_seconds

    assert schedule_seconds(expression) == seconds


def test_a_dashboard_counts_metric_rows_and_searches_not_expressions_of_them() -> None:
    from tools.cost import dashboard_metric_count

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
